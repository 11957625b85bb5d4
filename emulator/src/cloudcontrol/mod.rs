//! The Cloud Control API (JSON 1.0, target prefix `CloudApiService`, API version 2021-09-30) over the same resource
//! types that stacks manage: a registered provider's handlers run over the handler protocol, the emulated IAM's own
//! types through IAM's actions.
//!
//! Each call is authorized as `cloudformation:<Operation>` on `*`, as Cloud Control's actions are; the handlers then
//! run with credentials acting as the caller, so the type's own permissions are checked too. CreateResource,
//! UpdateResource and DeleteResource answer at once with an IN_PROGRESS event and run in a task; their requests are
//! kept in memory (not in the state database) for GetResourceRequestStatus and ListResourceRequests.

mod error;
mod identifier;
mod input;
mod mutations;
mod patch;
mod progress;
mod reads;
mod requests;
mod status;

use std::sync::Arc;

use axum::response::Response;
use serde_json::Value;

use crate::authz::{Ask, authorize};
use crate::config::DEFAULT_REGION;
use crate::context::RequestContext;
use crate::protocol::json;
use crate::resources::{Registry, ResourceType};
use crate::world::store::Store;
pub(crate) use error::CloudControlError;
use requests::Requests;

/// The `X-Amz-Target` prefix of Cloud Control's operations.
pub(crate) const TARGET_PREFIX: &str = "CloudApiService";

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateResource",
    "GetResource",
    "UpdateResource",
    "DeleteResource",
    "ListResources",
    "GetResourceRequestStatus",
    "ListResourceRequests",
    "CancelResourceRequest",
];

/// Cloud Control over the world's store and the registered types, with the requests it has taken.
pub(crate) struct CloudControl {
    store: Arc<Store>,
    types: Arc<Registry>,
    requests: Arc<Requests>,
}

impl CloudControl {
    pub fn new(store: Arc<Store>, types: Arc<Registry>) -> Self {
        Self {
            store,
            types,
            requests: Arc::default(),
        }
    }

    /// Answers `operation` (one of [`OPERATIONS`]) with the JSON `body`, as the caller of `context`.
    pub async fn handle(&self, operation: &str, body: &[u8], context: &RequestContext) -> Response {
        match self.answer(operation, body, context).await {
            Ok(output) => json::ok_response(output),
            Err(error) => error.into_response(),
        }
    }

    async fn answer(&self, operation: &str, body: &[u8], context: &RequestContext) -> Result<Value, CloudControlError> {
        {
            let state = self.store.state();
            authorize(&state, context, &Ask::new(format!("cloudformation:{operation}"), "*"))
                .map_err(|denied| CloudControlError::access_denied(denied.message))?;
        }
        let input = input::parse(body)?;
        match operation {
            "CreateResource" => mutations::create(self, &input, context),
            "UpdateResource" => mutations::update(self, &input, context),
            "DeleteResource" => mutations::delete(self, &input, context),
            "GetResource" => reads::get(self, &input, context).await,
            "ListResources" => reads::list(self, &input, context).await,
            "GetResourceRequestStatus" => status::get(&self.requests, &input, &Self::owner(context)),
            "ListResourceRequests" => status::list(&self.requests, &input, &Self::owner(context)),
            "CancelResourceRequest" => status::cancel(&self.requests, &input, &Self::owner(context)),
            other => Err(CloudControlError::unknown_operation(other)),
        }
    }

    /// Who a request belongs to: the caller's account and the region it signed for.
    fn owner(context: &RequestContext) -> String {
        let region = context.region.as_deref().unwrap_or(DEFAULT_REGION);
        format!("{}/{region}", context.caller.account_id)
    }

    /// The type `type_name`, or Cloud Control's TypeNotFoundException.
    fn resource_type(&self, type_name: &str) -> Result<ResourceType, CloudControlError> {
        self.types
            .get(type_name)
            .ok_or_else(|| CloudControlError::type_not_found(type_name))
    }
}
