//! Where sessions and console-issued tokens live: in this process (one replica) or in Redis,
//! shared by every replica, so a user signed in through one replica is signed in on all and a
//! sign-out on one revokes everywhere.

use std::str::FromStr;

use tower_sessions::{
    MemoryStore, SessionStore,
    session::{Id, Record},
    session_store,
};
use tower_sessions_redis_store::{
    RedisStore,
    fred::{
        clients::Pool,
        interfaces::ClientLike,
        prelude::{Config as RedisConfig, ReconnectPolicy},
    },
};

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

/// The store behind the session layer and the kubeconfig tokens.
#[derive(Clone, Debug)]
pub enum Store {
    Memory(MemoryStore),
    Redis(RedisStore<Pool>),
}

impl Default for Store {
    fn default() -> Self {
        Self::Memory(MemoryStore::default())
    }
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
        Ok(Self::Redis(RedisStore::new(pool)))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.create(record).await,
            Self::Redis(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.save(record).await,
            Self::Redis(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Memory(s) => s.load(id).await,
            Self::Redis(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Memory(s) => s.delete(id).await,
            Self::Redis(s) => s.delete(id).await,
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
