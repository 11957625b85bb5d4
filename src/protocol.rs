//! The wire format of handler invocations: the HandlerRequest CloudFormation (and `cfn test`) sends, and the
//! older test-entrypoint shape SAM local used. Both decode into one [`Invocation`]; unknown keys are ignored.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use pia_handlers::{Action, ResourceModel, ResourceRequest, Scope};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::schema::{InvalidModel, ModelValidator};

/// Temporary credentials of the caller; EKS calls are made with them. Never printed. Borrowed from the request's
/// bytes: they are copied only when a client is built for them, not on every invocation.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerCredentials<'a> {
    #[serde(borrow)]
    pub access_key_id: Cow<'a, str>,
    #[serde(borrow)]
    pub secret_access_key: Cow<'a, str>,
    #[serde(default, borrow)]
    pub session_token: Option<Cow<'a, str>>,
}

impl CallerCredentials<'_> {
    /// The same credentials, owning their text (kept with a warm client).
    pub fn into_owned(self) -> CallerCredentials<'static> {
        CallerCredentials {
            access_key_id: Cow::Owned(self.access_key_id.into_owned()),
            secret_access_key: Cow::Owned(self.secret_access_key.into_owned()),
            session_token: self.session_token.map(|token| Cow::Owned(token.into_owned())),
        }
    }

    /// Whether the SDK can sign with them: the key id and the session token travel in HTTP headers, where a control
    /// character is not allowed (the SDK's signer panics on one).
    fn is_well_formed(&self) -> bool {
        let printable = |text: &str| text.bytes().all(|b| b.is_ascii_graphic());
        (1..=128).contains(&self.access_key_id.len())
            && self.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
            && !self.secret_access_key.is_empty()
            && self
                .session_token
                .as_deref()
                .is_none_or(|token| !token.is_empty() && printable(token))
    }
}

impl fmt::Debug for CallerCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerCredentials(** redacted **)")
    }
}

/// One decoded invocation, validated but for an Update's [`SchemaCheck`].
#[derive(Debug)]
pub struct Invocation<'a> {
    pub action: Action,
    pub credentials: Option<CallerCredentials<'a>>,
    pub request: ResourceRequest,
    /// Update: the desired model's check against the schema, which may run while the first EKS call is under way.
    pub schema_check: Option<SchemaCheck<'a>>,
}

/// An Update's desired model, typed already, still to be held to the schema. Update's first call is a read
/// (Describe), so the check can run while EKS answers it; it must pass before the handler is polled again.
#[derive(Debug)]
pub struct SchemaCheck<'a> {
    model: &'a RawValue,
}

impl SchemaCheck<'_> {
    pub fn run(self, validator: &ModelValidator) -> Result<(), ProtocolError> {
        schema_checked(self.model, DESIRED, validator).map(drop)
    }
}

const DESIRED: &str = "the desired model (resourceProperties)";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("the request is not valid JSON: {0}")]
    NotJson(String),
    #[error("the request is neither a HandlerRequest (with requestData) nor a test-entrypoint request (with request)")]
    UnknownShape,
    #[error("the request is malformed: {0}")]
    Malformed(String),
    #[error("unknown action {0:?}; expected CREATE, READ, UPDATE, DELETE or LIST")]
    UnknownAction(String),
    #[error("{which} must be a JSON object")]
    ModelNotObject { which: &'static str },
    #[error("{which}: {message}")]
    BadModel { which: &'static str, message: String },
    #[error(transparent)]
    InvalidModel(#[from] InvalidModel),
}

type Tags = Option<BTreeMap<String, String>>;

/// Both shapes in one pass over the bytes: a HandlerRequest carries `requestData`, a test-entrypoint request
/// `request` (and `credentials` beside it). What neither names (`resourceType`, `stackId`, …) is skipped unbuilt;
/// the models are kept as the bytes they arrived in until their action says how to read them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(default, borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    aws_account_id: Option<Cow<'a, str>>,
    #[serde(default)]
    bearer_token: Option<String>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(default)]
    callback_context: Option<Value>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default, borrow)]
    request_data: Option<RequestData<'a>>,
    #[serde(default, borrow, deserialize_with = "credentials")]
    credentials: Option<CallerCredentials<'a>>,
    #[serde(default, borrow)]
    request: Option<TestRequest<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestData<'a> {
    #[serde(default, borrow, deserialize_with = "credentials")]
    caller_credentials: Option<CallerCredentials<'a>>,
    #[serde(default, borrow)]
    resource_properties: Option<&'a RawValue>,
    #[serde(default, borrow)]
    previous_resource_properties: Option<&'a RawValue>,
    #[serde(default)]
    stack_tags: Tags,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestRequest<'a> {
    #[serde(default)]
    client_request_token: Option<String>,
    #[serde(default, borrow)]
    desired_resource_state: Option<&'a RawValue>,
    #[serde(default, borrow)]
    previous_resource_state: Option<&'a RawValue>,
    #[serde(default)]
    desired_resource_tags: Tags,
    #[serde(default, borrow)]
    aws_account_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(default)]
    next_token: Option<String>,
}

/// Caller credentials, or an error that does not quote them: serde's own message would echo a malformed value (a
/// string where the object belongs), secret included, into the logs and the event.
fn credentials<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<CallerCredentials<'de>>, D::Error> {
    Option::<CallerCredentials>::deserialize(deserializer).map_err(|_| {
        serde::de::Error::custom(
            "callerCredentials must be an object with the strings accessKeyId, secretAccessKey and sessionToken",
        )
    })
}

/// The fields both shapes carry, before the models are checked.
struct Envelope<'a> {
    action: Cow<'a, str>,
    region: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
    credentials: Option<CallerCredentials<'a>>,
    token: Option<String>,
    callback_context: Option<Value>,
    next_token: Option<String>,
    desired: Option<&'a RawValue>,
    previous: Option<&'a RawValue>,
    stack_tags: Tags,
}

pub fn decode<'a>(payload: &'a [u8], validator: &ModelValidator) -> Result<Invocation<'a>, ProtocolError> {
    let envelope = envelope(payload)?;
    let action = parse_action(&envelope.action)?;
    // Create and Update carry the whole desired model and are held to the schema: Create before anything, Update
    // before anything changes (see SchemaCheck). Read, Delete and List may carry identifiers only, or a model
    // written by another version of the type (a stack rolled back to it must still delete): what they do not
    // know they leave alone. So does the previous model of an update.
    let (desired, schema_check) = match (action, envelope.desired) {
        (Action::Create, Some(raw)) => (strict_model(raw, DESIRED, validator)?, None),
        (Action::Update, Some(raw)) => match lenient_model(raw, DESIRED) {
            Ok(desired) => (desired, Some(SchemaCheck { model: raw })),
            // What the schema says of a model that does not even type is the clearer message.
            Err(_) => (strict_model(raw, DESIRED, validator)?, None),
        },
        (_, Some(raw)) => (lenient_model(raw, DESIRED)?, None),
        (_, None) => (ResourceModel::default(), None),
    };
    let previous = match envelope.previous {
        None => None,
        Some(previous) => Some(lenient_model(
            previous,
            "the previous model (previousResourceProperties)",
        )?),
    };
    if envelope
        .credentials
        .as_ref()
        .is_some_and(|credentials| !credentials.is_well_formed())
    {
        // The values are never echoed: they are secrets even when malformed.
        return Err(ProtocolError::Malformed(
            "callerCredentials are not AWS credentials: accessKeyId must be letters and digits, sessionToken printable ASCII".into(),
        ));
    }
    let region = envelope.region.filter(|region| !region.is_empty());
    if let Some(region) = region.as_deref().filter(|region| !is_region_name(region)) {
        let shown: String = region.chars().take(64).collect();
        return Err(ProtocolError::Malformed(format!(
            "region {shown:?} is not an AWS region name"
        )));
    }
    let account_id = envelope.account_id.filter(|account| !account.is_empty());
    if let Some(account) = account_id.as_deref().filter(|account| !is_account_id(account)) {
        let shown: String = account.chars().take(64).collect();
        return Err(ProtocolError::Malformed(format!(
            "awsAccountId {shown:?} is not an AWS account id (12 digits)"
        )));
    }
    Ok(Invocation {
        action,
        schema_check,
        credentials: envelope.credentials,
        request: ResourceRequest {
            desired,
            previous,
            stack_tags: envelope.stack_tags.unwrap_or_default(),
            scope: Scope::new(region.as_deref(), account_id.as_deref()),
            client_request_token: envelope.token.filter(|token| !token.is_empty()),
            callback_context: envelope.callback_context.filter(|context| !context.is_null()),
            next_token: envelope.next_token.filter(|token| !token.is_empty()),
        },
    })
}

/// Decoded straight from the bytes into the fields used: no tree of the whole request is built.
fn envelope(payload: &[u8]) -> Result<Envelope<'_>, ProtocolError> {
    // A struct would also take a JSON array, field by field: only an object is a request.
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
            Ok(_) => ProtocolError::UnknownShape,
            Err(error) => ProtocolError::NotJson(error.to_string()),
        });
    }
    // One check of the whole payload's UTF-8 (vectorised) spares the parser checking each string it reads.
    let text = std::str::from_utf8(payload).map_err(|error| ProtocolError::NotJson(error.to_string()))?;
    let request: Payload = serde_json::from_str(text).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => ProtocolError::Malformed(error.to_string()),
        _ => ProtocolError::NotJson(error.to_string()),
    })?;
    let missing_action = || ProtocolError::Malformed("missing field `action`".into());
    if let Some(data) = request.request_data {
        Ok(Envelope {
            action: request.action.ok_or_else(missing_action)?,
            region: request.region,
            account_id: request.aws_account_id,
            credentials: data.caller_credentials,
            token: request.bearer_token,
            callback_context: request.callback_context,
            next_token: request.next_token,
            desired: data.resource_properties,
            previous: data.previous_resource_properties,
            stack_tags: data.stack_tags,
        })
    } else if let Some(inner) = request.request {
        Ok(Envelope {
            action: request.action.ok_or_else(missing_action)?,
            region: inner.region,
            account_id: inner.aws_account_id,
            credentials: request.credentials,
            token: inner.client_request_token,
            callback_context: request.callback_context,
            next_token: inner.next_token,
            desired: inner.desired_resource_state,
            previous: inner.previous_resource_state,
            stack_tags: inner.desired_resource_tags,
        })
    } else {
        Err(ProtocolError::UnknownShape)
    }
}

/// What the SDK accepts as a region (it becomes a host label of the endpoint): `us-east-1`, `us-gov-west-1`, ….
fn is_region_name(region: &str) -> bool {
    region.len() <= 63
        && region.starts_with(|c: char| c.is_ascii_alphanumeric())
        && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

fn parse_action(action: &str) -> Result<Action, ProtocolError> {
    Action::ALL
        .into_iter()
        .find(|known| known.as_str() == action)
        .ok_or_else(|| ProtocolError::UnknownAction(action.chars().take(64).collect()))
}

/// A model held to the schema first (the template's strings coerced as the schema types them), then typed.
fn strict_model(
    raw: &RawValue,
    which: &'static str,
    validator: &ModelValidator,
) -> Result<ResourceModel, ProtocolError> {
    let fields = schema_checked(raw, which, validator)?;
    // Typed from the tree already built: its strings move rather than being read from the text a second time.
    serde_json::from_value(fields).map_err(|e| bad_model(which, e))
}

/// The model's tree, its template strings coerced as the schema types them, once it has passed the schema.
fn schema_checked(raw: &RawValue, which: &'static str, validator: &ModelValidator) -> Result<Value, ProtocolError> {
    object(raw, which)?;
    let mut fields: Map<String, Value> = serde_json::from_str(raw.get()).map_err(|e| bad_model(which, e))?;
    validator.coerce(&mut fields);
    let fields = Value::Object(fields);
    validator.validate(&fields)?;
    Ok(fields)
}

/// A model typed straight from its text: properties the model does not define are ignored.
fn lenient_model(raw: &RawValue, which: &'static str) -> Result<ResourceModel, ProtocolError> {
    object(raw, which)?;
    serde_json::from_str(raw.get()).map_err(|e| bad_model(which, e))
}

fn object(raw: &RawValue, which: &'static str) -> Result<(), ProtocolError> {
    if raw.get().starts_with('{') {
        Ok(())
    } else {
        Err(ProtocolError::ModelNotObject { which })
    }
}

fn bad_model(which: &'static str, error: serde_json::Error) -> ProtocolError {
    ProtocolError::BadModel {
        which,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn handler_request(action: &str, properties: Value) -> Value {
        json!({
            "action": action,
            "awsAccountId": "111122223333",
            "bearerToken": "b7f7c5e4-token",
            "region": "eu-west-1",
            "resourceType": "AWS::EKS::PodIdentityAssociation",
            "someFutureKey": {"ignored": true},
            "callbackContext": null,
            "requestData": {
                "callerCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "SECRET", "sessionToken": "TOKEN"},
                "resourceProperties": properties,
                "stackTags": {"env": "prod"},
                "logicalResourceId": "Association",
                "anotherUnknown": 1
            }
        })
    }

    /// The payload outlives the test, as an Update's schema check borrows it.
    fn decode_value(value: Value) -> Result<Invocation<'static>, ProtocolError> {
        let payload: &'static str = Box::leak(value.to_string().into_boxed_str());
        decode(payload.as_bytes(), &ModelValidator::new())
    }

    fn valid_properties() -> Value {
        json!({"ClusterName": "prod", "Namespace": "ns", "ServiceAccount": "sa",
               "RoleArn": "arn:aws:iam::111122223333:role/r", "DisableSessionTags": "false"})
    }

    #[test]
    fn decodes_a_handler_request_and_ignores_unknown_keys() {
        let invocation = decode_value(handler_request("CREATE", valid_properties())).unwrap();
        assert_eq!(invocation.action, Action::Create);
        assert_eq!(invocation.request.scope.region.as_deref(), Some("eu-west-1"));
        assert_eq!(invocation.credentials.unwrap().session_token.as_deref(), Some("TOKEN"));
        assert_eq!(
            invocation.request.client_request_token.as_deref(),
            Some("b7f7c5e4-token")
        );
        assert_eq!(invocation.request.desired.disable_session_tags, Some(false));
        assert_eq!(
            invocation.request.stack_tags.get("env").map(String::as_str),
            Some("prod")
        );
        assert_eq!(invocation.request.callback_context, None);
    }

    #[test]
    fn decodes_the_test_entrypoint_shape() {
        let request = json!({
            "credentials": {"accessKeyId": "AKIA", "secretAccessKey": "SECRET"},
            "action": "UPDATE",
            "request": {
                "clientRequestToken": "t-1",
                "desiredResourceState": valid_properties(),
                "previousResourceState": {"ClusterName": "prod"},
                "desiredResourceTags": {"a": "1"},
                "awsAccountId": "444455556666",
                "region": "us-west-2",
                "logicalResourceIdentifier": "X"
            },
            "callbackContext": {"roleWaitAttempts": 1}
        });
        let invocation = decode_value(request).unwrap();
        assert_eq!(invocation.action, Action::Update);
        assert_eq!(invocation.request.scope.region.as_deref(), Some("us-west-2"));
        assert_eq!(
            invocation.request.previous.unwrap().cluster_name.as_deref(),
            Some("prod")
        );
        assert_eq!(
            invocation.request.scope,
            Scope::new(Some("us-west-2"), Some("444455556666"))
        );
        assert_eq!(
            invocation.request.callback_context,
            Some(json!({"roleWaitAttempts": 1}))
        );
    }

    #[test]
    fn read_needs_only_the_identifier() {
        let invocation =
            decode_value(handler_request("READ", json!({"AssociationArn": "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-0123456789abcdefg"})))
                .unwrap();
        assert_eq!(invocation.action, Action::Read);
    }

    #[test]
    fn a_model_of_another_version_is_read_but_not_created() {
        let mut properties = valid_properties();
        properties["FutureProperty"] = json!({"nested": [1, 2]});
        properties["DisableSessionTags"] = json!("TRUE");
        for action in ["READ", "DELETE", "LIST"] {
            let invocation = decode_value(handler_request(action, properties.clone())).unwrap();
            assert_eq!(
                invocation.request.desired.cluster_name.as_deref(),
                Some("prod"),
                "{action}"
            );
            assert_eq!(invocation.request.desired.disable_session_tags, Some(true), "{action}");
        }
        let error = decode_value(handler_request("CREATE", properties.clone())).unwrap_err();
        let refused = |error: &ProtocolError| matches!(error, ProtocolError::InvalidModel(InvalidModel(message)) if message.contains("FutureProperty"));
        assert!(refused(&error), "{error}");
        // Update's check is left to run beside its first call (a read), and refuses the same model.
        let payload = handler_request("UPDATE", properties).to_string();
        let validator = ModelValidator::new();
        let invocation = decode(payload.as_bytes(), &validator).unwrap();
        let error = invocation.schema_check.unwrap().run(&validator).unwrap_err();
        assert!(refused(&error), "{error}");
    }

    #[test]
    fn an_update_that_does_not_even_type_is_refused_by_the_schema_at_once() {
        let mut properties = valid_properties();
        properties["Namespace"] = json!(5);
        let error = decode_value(handler_request("UPDATE", properties)).unwrap_err();
        assert!(
            matches!(&error, ProtocolError::InvalidModel(InvalidModel(message)) if message.contains("Namespace")),
            "{error}"
        );
    }

    #[test]
    fn rejects_what_is_malformed_with_a_precise_message() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "not valid JSON"),
            (b"{\"action\": \"READ\xff\"}".to_vec(), "not valid JSON: invalid utf-8"),
            (b"[]".to_vec(), "neither a HandlerRequest"),
            (b"{}".to_vec(), "neither a HandlerRequest"),
            (
                handler_request("PATCH", json!({})).to_string().into_bytes(),
                "unknown action \"PATCH\"",
            ),
            (
                json!({"action": 5, "requestData": {}}).to_string().into_bytes(),
                "malformed",
            ),
            (
                handler_request("CREATE", json!([])).to_string().into_bytes(),
                "must be a JSON object",
            ),
            (
                handler_request("CREATE", json!({"ClusterName": "c"}))
                    .to_string()
                    .into_bytes(),
                "required property",
            ),
            (
                handler_request("READ", json!({"ClusterName": 7}))
                    .to_string()
                    .into_bytes(),
                "invalid type",
            ),
            (
                handler_request("DELETE", json!({"DisableSessionTags": "maybe"}))
                    .to_string()
                    .into_bytes(),
                "invalid type: string \"maybe\", expected a boolean",
            ),
            (
                handler_request("READ", json!("ClusterName")).to_string().into_bytes(),
                "must be a JSON object",
            ),
            (
                {
                    let mut request = handler_request("READ", json!({}));
                    request["region"] = json!("us-east-1\u{0}/../");
                    request.to_string().into_bytes()
                },
                "is not an AWS region name",
            ),
            (
                {
                    let mut request = handler_request("READ", json!({}));
                    request["requestData"]["callerCredentials"]["accessKeyId"] = json!("AKIA\u{0}");
                    request.to_string().into_bytes()
                },
                "callerCredentials are not AWS credentials",
            ),
            (
                {
                    let mut request = handler_request("READ", json!({}));
                    request["requestData"]["callerCredentials"]["sessionToken"] = json!("tok\nen");
                    request.to_string().into_bytes()
                },
                "callerCredentials are not AWS credentials",
            ),
            (
                {
                    let mut request = handler_request("READ", json!({}));
                    request["requestData"]["callerCredentials"] = json!("AKIAEXAMPLE:SECRET-VALUE");
                    request.to_string().into_bytes()
                },
                "callerCredentials must be an object",
            ),
        ];
        for (payload, expected) in cases {
            let error = decode(&payload, &ModelValidator::new()).unwrap_err();
            assert!(
                error.to_string().contains(expected),
                "{}: {error}",
                String::from_utf8_lossy(&payload)
            );
            assert!(!error.to_string().contains("SECRET"), "a credential echoed: {error}");
        }
    }

    #[test]
    fn escaped_credentials_are_unescaped() {
        // Some encoders write a secret's `/` as `\/`: the key is the unescaped text, not the bytes as sent.
        let mut request = handler_request("READ", json!({}));
        request["requestData"]["callerCredentials"]["secretAccessKey"] = json!("wJal/rXUtn+FEMI");
        let payload = request.to_string().replace("wJal/rXUtn", "wJal\\/rXUtn");
        assert!(payload.contains("wJal\\/rXUtn"));
        let invocation = decode(payload.as_bytes(), &ModelValidator::new()).unwrap();
        assert_eq!(invocation.credentials.unwrap().secret_access_key, "wJal/rXUtn+FEMI");
    }

    #[test]
    fn credentials_never_print() {
        let invocation = decode_value(handler_request("CREATE", valid_properties())).unwrap();
        let printed = format!("{invocation:?}");
        assert!(
            !printed.contains("SECRET") && !printed.contains("TOKEN") && !printed.contains("AKIA"),
            "{printed}"
        );
    }
}
