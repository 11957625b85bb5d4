//! What the dispatcher shares across requests: the world's store, and the faults and call counts that
//! belong to requests rather than to the world.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::calls::CallCounter;
use crate::cloudcontrol::CloudControl;
use crate::faults::FaultInjector;
use crate::resources::Registry;
use crate::world::store::Store;

pub(crate) struct Shared {
    pub store: Arc<Store>,
    /// The resource types stacks and Cloud Control can manage.
    pub resource_types: Arc<Registry>,
    /// Cloud Control, over those types, with the requests it has taken.
    pub cloud_control: CloudControl,
    faults: Mutex<FaultInjector>,
    calls: Mutex<CallCounter>,
}

impl Shared {
    pub fn new(store: Store) -> Self {
        let store = Arc::new(store);
        let resource_types = Arc::<Registry>::default();
        Self {
            cloud_control: CloudControl::new(store.clone(), resource_types.clone()),
            store,
            resource_types,
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
