//! Where sessions and console-issued tokens live: in this process (one replica) or in Redis,
//! shared by every replica, so a user signed in through one replica is signed in on all and a
//! sign-out on one revokes everywhere. Sessions and kubectl tokens are kept apart: tokens live
//! under their own keys (`ngc:token:<sha-256>`), never under a session id; so do the one-time
//! codes of `ac login` (`ngc:cli-code:<sha-256>`), each taken at most once.
//!
//! The memory store is bounded: entries are forgotten when their expiry passes, and each kind
//! (signed-in sessions, anonymous sessions such as pending sign-ins, tokens) has its own cap,
//! so a flood of cookieless `/auth/login` requests evicts only other pending sign-ins.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use moka::{future::Cache, policy::EvictionPolicy};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};
use tower_sessions_redis_store::{
    RedisStore,
    fred::{
        clients::Pool,
        interfaces::{ClientLike, KeysInterface},
        prelude::{Config as RedisConfig, ReconnectPolicy},
        types::Expiration,
    },
};

use super::{USER_KEY, cli::CodeRecord, tokens::TokenRecord};

/// `--session-store`: `memory` or a `redis://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    Redis(String),
}

impl FromStr for StoreChoice {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "memory" {
            Ok(Self::Memory)
        } else if value.starts_with("redis://") || value.starts_with("rediss://") {
            Ok(Self::Redis(value.to_string()))
        } else {
            Err(format!(
                "{value:?} is not a session store: use \"memory\" (one replica) or a redis://host:port/db URL (several replicas)"
            ))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("--session-store {url}: {reason}. Check the URL (redis://host:port/db).")]
    Url { url: String, reason: String },
    #[error(
        "--session-store {url}: Redis did not answer ({reason}). Start Redis or choose --session-store memory for a single replica."
    )]
    Unreachable { url: String, reason: String },
}

/// How many entries of each kind the memory store keeps at most; beyond that the least recently
/// used entry of that kind is evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Sessions of signed-in users.
    pub signed_in: u64,
    /// Sessions without a user: pending sign-ins (cookieless `/auth/login` makes one each).
    pub anonymous: u64,
    /// kubectl tokens.
    pub tokens: u64,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            signed_in: 100_000,
            anonymous: 10_000,
            tokens: 100_000,
        }
    }
}

/// How many entries the memory store holds now, after expired ones are purged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryEntries {
    pub signed_in: u64,
    pub anonymous: u64,
    pub tokens: u64,
}

/// Each entry lives until its own expiry date (a session's idle or pending-login expiry, a
/// token's end), re-read on every write.
struct UntilExpiry;

fn remaining(expiry: time::OffsetDateTime) -> Duration {
    let left = expiry - time::OffsetDateTime::now_utc();
    Duration::try_from(left).unwrap_or(Duration::ZERO)
}

impl moka::Expiry<Id, Record> for UntilExpiry {
    fn expire_after_create(&self, _: &Id, record: &Record, _: Instant) -> Option<Duration> {
        Some(remaining(record.expiry_date))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        record: &Record,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(remaining(record.expiry_date))
    }
}

impl moka::Expiry<String, CodeRecord> for UntilExpiry {
    fn expire_after_create(&self, _: &String, code: &CodeRecord, _: Instant) -> Option<Duration> {
        Some(remaining(code.expiry()))
    }
}

impl moka::Expiry<String, TokenRecord> for UntilExpiry {
    fn expire_after_create(&self, _: &String, token: &TokenRecord, _: Instant) -> Option<Duration> {
        Some(remaining(token.expiry()))
    }

    fn expire_after_update(
        &self,
        _: &String,
        token: &TokenRecord,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(remaining(token.expiry()))
    }
}

/// This process's sessions and tokens: bounded moka caches with per-entry expiry
/// (tower-sessions' own MemoryStore keeps every record for good).
#[derive(Clone)]
pub struct MemoryStore(std::sync::Arc<MemoryCaches>);

/// The caches behind [`MemoryStore`].
pub struct MemoryCaches {
    signed_in: Cache<Id, Record>,
    anonymous: Cache<Id, Record>,
    tokens: Cache<String, TokenRecord>,
    /// `ac login`'s one-time codes (capped as tokens are: each carries one).
    codes: Cache<String, CodeRecord>,
}

impl std::ops::Deref for MemoryStore {
    type Target = MemoryCaches;

    fn deref(&self) -> &MemoryCaches {
        &self.0
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("signed_in", &self.signed_in.entry_count())
            .field("anonymous", &self.anonymous.entry_count())
            .field("tokens", &self.tokens.entry_count())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(MemoryLimits::default())
    }
}

impl MemoryStore {
    pub fn new(limits: MemoryLimits) -> Self {
        fn records(capacity: u64) -> Cache<Id, Record> {
            Cache::builder()
                .max_capacity(capacity)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(UntilExpiry)
                .build()
        }
        Self(std::sync::Arc::new(MemoryCaches {
            signed_in: records(limits.signed_in),
            anonymous: records(limits.anonymous),
            tokens: Cache::builder()
                .max_capacity(limits.tokens)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(UntilExpiry)
                .build(),
            codes: Cache::builder()
                .max_capacity(limits.tokens)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(UntilExpiry)
                .build(),
        }))
    }

    /// The counts after pending evictions and expirations have run.
    pub async fn entries(&self) -> MemoryEntries {
        self.signed_in.run_pending_tasks().await;
        self.anonymous.run_pending_tasks().await;
        self.tokens.run_pending_tasks().await;
        MemoryEntries {
            signed_in: self.signed_in.entry_count(),
            anonymous: self.anonymous.entry_count(),
            tokens: self.tokens.entry_count(),
        }
    }

    /// Signed-in sessions and the rest are capped apart, so anonymous records never evict a
    /// signed-in user.
    fn cache_for(&self, record: &Record) -> (&Cache<Id, Record>, &Cache<Id, Record>) {
        if record.data.contains_key(USER_KEY) {
            (&self.signed_in, &self.anonymous)
        } else {
            (&self.anonymous, &self.signed_in)
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while self.signed_in.contains_key(&record.id) || self.anonymous.contains_key(&record.id) {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (cache, other) = self.cache_for(record);
        other.invalidate(&record.id).await;
        if record.expiry_date > time::OffsetDateTime::now_utc() {
            cache.insert(record.id, record.clone()).await;
        } else {
            cache.invalidate(&record.id).await;
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let record = match self.signed_in.get(id).await {
            Some(record) => Some(record),
            None => self.anonymous.get(id).await,
        };
        Ok(record.filter(|r| r.expiry_date > time::OffsetDateTime::now_utc()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.signed_in.invalidate(id).await;
        self.anonymous.invalidate(id).await;
        Ok(())
    }
}

/// Sessions in Redis (tower-sessions' Redis store) and tokens beside them under their own keys.
#[derive(Clone, Debug)]
pub struct SharedStore {
    sessions: RedisStore<Pool>,
    pool: Pool,
}

/// The store behind the session layer and the kubeconfig tokens.
#[derive(Clone, Debug)]
pub enum Store {
    Memory(MemoryStore),
    Redis(SharedStore),
}

impl Default for Store {
    fn default() -> Self {
        Self::Memory(MemoryStore::default())
    }
}

/// Where a token's record is kept: the SHA-256 of its value, in a namespace no session id uses.
fn token_key(hash: &str) -> String {
    format!("ngc:token:{hash}")
}

/// Where a one-time sign-in code of `ac login` is kept: the SHA-256 of its value.
fn code_key(hash: &str) -> String {
    format!("ngc:cli-code:{hash}")
}

/// Keeps `record` as JSON under `key` in Redis until `expires_at` (Unix seconds).
async fn redis_put(
    shared: &SharedStore,
    key: String,
    record: &impl serde::Serialize,
    expires_at: i64,
) -> session_store::Result<()> {
    let value =
        serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    shared
        .pool
        .set::<(), _, _>(
            key,
            value.as_slice(),
            Some(Expiration::EXAT(expires_at)),
            None,
            false,
        )
        .await
        .map_err(|e| session_store::Error::Backend(e.to_string()))
}

/// Reads a JSON record that Redis answered (`None`: no such key).
fn redis_record<T: serde::de::DeserializeOwned>(
    value: Option<Vec<u8>>,
) -> session_store::Result<Option<T>> {
    value
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
}

impl Store {
    /// Opens the chosen store; a Redis store must answer a PING before the console serves.
    pub async fn open(choice: &StoreChoice) -> Result<Self, StoreError> {
        let url = match choice {
            StoreChoice::Memory => return Ok(Self::default()),
            StoreChoice::Redis(url) => url,
        };
        let config = RedisConfig::from_url(url).map_err(|e| StoreError::Url {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        // A few connections, reconnecting with backoff if Redis restarts while the console runs.
        let pool = Pool::new(
            config,
            None,
            None,
            Some(ReconnectPolicy::new_exponential(0, 100, 5_000, 2)),
            4,
        )
        .map_err(|e| StoreError::Url {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let unreachable = |reason: String| StoreError::Unreachable {
            url: url.clone(),
            reason,
        };
        match tokio::time::timeout(std::time::Duration::from_secs(5), pool.init()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer within 5 s".into())),
        }
        Ok(Self::Redis(SharedStore {
            sessions: RedisStore::new(pool.clone()),
            pool,
        }))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }

    /// Entry counts of the memory store (None for Redis, which has its own limits).
    pub async fn memory_entries(&self) -> Option<MemoryEntries> {
        match self {
            Self::Memory(memory) => Some(memory.entries().await),
            Self::Redis(_) => None,
        }
    }

    /// Stores a token's record under the hash of its value, until the token's own expiry.
    pub async fn put_token(&self, hash: &str, token: &TokenRecord) -> session_store::Result<()> {
        match self {
            Self::Memory(memory) => {
                memory.tokens.insert(hash.to_string(), token.clone()).await;
                Ok(())
            }
            Self::Redis(shared) => {
                redis_put(shared, token_key(hash), token, token.expires_at).await
            }
        }
    }

    /// The record of the token whose value hashes to `hash`, if it exists and has not expired.
    pub async fn get_token(&self, hash: &str) -> session_store::Result<Option<TokenRecord>> {
        let token = match self {
            Self::Memory(memory) => memory.tokens.get(hash).await,
            Self::Redis(shared) => redis_record(
                shared
                    .pool
                    .get::<Option<Vec<u8>>, _>(token_key(hash))
                    .await
                    .map_err(|e| session_store::Error::Backend(e.to_string()))?,
            )?,
        };
        Ok(token.filter(|t| t.expiry() > time::OffsetDateTime::now_utc()))
    }

    /// Keeps a one-time code's record under the hash of its value, until its expiry.
    pub async fn put_code(&self, hash: &str, code: &CodeRecord) -> session_store::Result<()> {
        match self {
            Self::Memory(memory) => {
                memory.codes.insert(hash.to_string(), code.clone()).await;
                Ok(())
            }
            Self::Redis(shared) => redis_put(shared, code_key(hash), code, code.expires_at).await,
        }
    }

    /// Takes the record of the code whose value hashes to `hash` out of the store (atomically:
    /// of two callers with the same code at most one gets it), if it exists and has not expired.
    pub async fn take_code(&self, hash: &str) -> session_store::Result<Option<CodeRecord>> {
        let code = match self {
            Self::Memory(memory) => memory.codes.remove(hash).await,
            Self::Redis(shared) => redis_record(
                shared
                    .pool
                    .getdel::<Option<Vec<u8>>, _>(code_key(hash))
                    .await
                    .map_err(|e| session_store::Error::Backend(e.to_string()))?,
            )?,
        };
        Ok(code.filter(|c| c.expiry() > time::OffsetDateTime::now_utc()))
    }

    pub async fn delete_token(&self, hash: &str) -> session_store::Result<()> {
        match self {
            Self::Memory(memory) => {
                memory.tokens.invalidate(hash).await;
                Ok(())
            }
            Self::Redis(shared) => shared
                .pool
                .del::<(), _>(token_key(hash))
                .await
                .map_err(|e| session_store::Error::Backend(e.to_string())),
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.create(record).await,
            Self::Redis(s) => s.sessions.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.save(record).await,
            Self::Redis(s) => s.sessions.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Memory(s) => s.load(id).await,
            Self::Redis(s) => s.sessions.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.delete(id).await,
            Self::Redis(s) => s.sessions.delete(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_flag_takes_memory_or_a_redis_url_and_names_what_else_it_wants() {
        assert_eq!("memory".parse(), Ok(StoreChoice::Memory));
        assert_eq!(
            "redis://127.0.0.1:6379/0".parse(),
            Ok(StoreChoice::Redis("redis://127.0.0.1:6379/0".into()))
        );
        let error = "postgres://db"
            .parse::<StoreChoice>()
            .err()
            .unwrap_or_default();
        assert!(error.contains("redis://"), "{error}");
    }

    fn record(signed_in: bool, lifetime: time::Duration) -> Record {
        let mut data = std::collections::HashMap::new();
        let key = if signed_in {
            USER_KEY
        } else {
            super::super::PENDING_KEY
        };
        data.insert(key.to_string(), serde_json::json!({}));
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::now_utc() + lifetime,
        }
    }

    #[tokio::test]
    async fn memory_entries_are_forgotten_when_their_expiry_passes() {
        let store = MemoryStore::default();
        let mut pending = record(false, time::Duration::seconds(2));
        let mut user = record(true, time::Duration::seconds(2));
        store.create(&mut pending).await.unwrap_or_default();
        store.create(&mut user).await.unwrap_or_default();
        let token = TokenRecord {
            session: user.id.to_string(),
            created_at: super::super::now(),
            expires_at: super::super::now() + 2,
        };
        Store::Memory(store.clone())
            .put_token("abc", &token)
            .await
            .unwrap_or_default();
        let entries = store.entries().await;
        assert_eq!(
            (entries.anonymous, entries.signed_in, entries.tokens),
            (1, 1, 1)
        );
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(
            store.load(&pending.id).await.ok().flatten().map(|r| r.id),
            None
        );
        assert_eq!(
            store.entries().await,
            MemoryEntries::default(),
            "all purged"
        );
    }

    #[tokio::test]
    async fn each_kind_is_capped_and_anonymous_floods_never_evict_signed_in_users() {
        let store = MemoryStore::new(MemoryLimits {
            signed_in: 50,
            anonymous: 100,
            tokens: 10,
        });
        let mut user = record(true, time::Duration::hours(1));
        store.create(&mut user).await.unwrap_or_default();
        for _ in 0..1_000 {
            let mut pending = record(false, time::Duration::minutes(10));
            store.create(&mut pending).await.unwrap_or_default();
        }
        let entries = store.entries().await;
        assert!(entries.anonymous <= 100, "{entries:?}");
        assert_eq!(entries.signed_in, 1);
        assert!(
            store.load(&user.id).await.ok().flatten().is_some(),
            "the user stays signed in"
        );
        // Signing in moves the record from the anonymous kind to the signed-in kind.
        let mut pending = record(false, time::Duration::minutes(10));
        store.create(&mut pending).await.unwrap_or_default();
        let mut signed_in = pending.clone();
        signed_in
            .data
            .insert(USER_KEY.into(), serde_json::json!({}));
        store.save(&signed_in).await.unwrap_or_default();
        assert!(!store.anonymous.contains_key(&pending.id));
        assert!(store.signed_in.contains_key(&pending.id));
        // A record saved already expired is gone, not kept.
        let mut gone = signed_in.clone();
        gone.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.save(&gone).await.unwrap_or_default();
        assert!(store.load(&gone.id).await.ok().flatten().is_none());
    }

    #[tokio::test]
    async fn a_redis_store_that_does_not_answer_is_refused_at_start_with_the_fix() {
        // Port 9 on loopback: nothing listens.
        let error = Store::open(&StoreChoice::Redis("redis://127.0.0.1:9/0".into()))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("Redis did not answer"), "{error}");
        assert!(error.contains("--session-store memory"), "{error}");
    }
}
