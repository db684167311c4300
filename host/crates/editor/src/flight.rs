//! Coalescing of identical requests in flight: when several tasks miss the cache on the
//! same key at once, one asks the server and the others wait for its reply in the cache.
//! Datasets repeat (question, answer) pairs, so without this a run would pay for each
//! duplicate that happens to be in flight together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-key locks, created on demand and dropped when no task holds or awaits them.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    keys: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while this task is the one fetching `key`.
pub(crate) struct FlightGuard<'a> {
    flights: &'a Flights,
    key: String,
    lock: Option<OwnedMutexGuard<()>>,
}

impl Flights {
    /// Waits until no other task is fetching `key`, then claims it.
    pub(crate) async fn claim(&self, key: &str) -> FlightGuard<'_> {
        let lock = {
            let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            keys.entry(key.to_owned()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        FlightGuard {
            flights: self,
            key: key.to_owned(),
            lock: Some(guard),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.lock().unwrap().len()
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut keys = self.flights.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(guard) = self.lock.take() {
            let lock = Arc::clone(OwnedMutexGuard::mutex(&guard));
            drop(guard);
            // Left: the map's handle and `lock`. More belong to tasks waiting on this key,
            // and none can be added meanwhile (handles are cloned under the map lock).
            if Arc::strong_count(&lock) == 2 {
                keys.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_one_holder_per_key_and_keys_are_forgotten() {
        let flights = Arc::new(Flights::default());
        let holders = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (flights, holders, most) = (flights.clone(), holders.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _guard = flights.claim("k").await;
                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0);
        // Different keys do not wait for each other.
        let a = flights.claim("a").await;
        let b = flights.claim("b").await;
        assert_eq!(flights.len(), 2);
        drop((a, b));
        assert_eq!(flights.len(), 0);
    }
}
