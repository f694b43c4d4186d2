//! Leader election over a Lease on the global cluster (kube-lease-manager: server-side applied,
//! so two replicas can never both take the lock). Every replica serves pages; only the leader
//! runs the controllers. When the leader dies its lease expires after `LEASE_SECONDS` and
//! another replica takes over; the controllers start from a fresh list of every resource, so no
//! change made meanwhile is missed.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::task::JoinHandle;

/// The Lease every replica competes for, in the console's namespace on global.
pub const LEASE_NAME: &str = "nextgen-console-controllers";
pub const LEASE_NAMESPACE: &str = "nextgen-console-system";
/// How long a lease outlives its last renewal; the holder renews `GRACE_SECONDS` before that.
pub const LEASE_SECONDS: u64 = 15;
const GRACE_SECONDS: u64 = 5;

/// Competes for the lease as `identity` until the process ends; while it leads, the tasks
/// `start` returns run, and they are stopped as soon as leadership is lost.
pub async fn lead<F>(global: Client, identity: String, lease: &str, start: F)
where
    F: Fn() -> Vec<JoinHandle<()>>,
{
    let manager = loop {
        match LeaseManagerBuilder::new(global.clone(), lease)
            .with_namespace(LEASE_NAMESPACE)
            .with_identity(identity.clone())
            .with_duration(LEASE_SECONDS)
            .with_grace(GRACE_SECONDS)
            .build()
            .await
        {
            Ok(manager) => break manager,
            Err(error) => {
                tracing::warn!(%error, "cannot take part in leader election yet; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    let (mut leading, _task) = manager.watch().await;
    let mut running: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let is_leader = *leading.borrow_and_update();
        if is_leader && running.is_empty() {
            tracing::info!(%identity, "leading: controllers started");
            running = start();
        } else if !is_leader && !running.is_empty() {
            tracing::warn!(%identity, "leadership lost: controllers stopped");
            for task in running.drain(..) {
                task.abort();
            }
        }
        if leading.changed().await.is_err() {
            break;
        }
    }
    for task in running {
        task.abort();
    }
}
