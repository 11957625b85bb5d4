//! What the dispatcher shares across requests: the world's store, and the faults and call counts that
//! belong to requests rather than to the world.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::calls::CallCounter;
use crate::faults::FaultInjector;
use crate::resources::Registry;
use crate::world::store::Store;

pub(crate) struct Shared {
    pub store: Arc<Store>,
    /// The resource types stacks and Cloud Control can manage.
    pub resource_types: Arc<Registry>,
    faults: Mutex<FaultInjector>,
    calls: Mutex<CallCounter>,
}

impl Shared {
    pub fn new(store: Store) -> Self {
        Self {
            store: Arc::new(store),
            resource_types: Arc::default(),
            faults: Mutex::default(),
            calls: Mutex::default(),
        }
    }

    // Poisoning is ignored, as the store does: the counters stay usable after a panicking handler.
    pub fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn calls(&self) -> MutexGuard<'_, CallCounter> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
