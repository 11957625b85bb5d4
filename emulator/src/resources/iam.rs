//! The emulated IAM's own resource types, made through IAM's actions as the caller: `AWS::IAM::Role`,
//! `AWS::IAM::ManagedPolicy` and `AWS::IAM::Policy`. A create that fails part way undoes what it made.

use serde_json::{Value, json};

use super::{Failure, Made, Scope, TypeSchema};
use crate::protocol::query::{Params, QueryError};
use crate::world::store::Store;

pub(super) fn role_schema() -> TypeSchema {
    TypeSchema::new(&["RoleName"], &["RoleName", "Path"], &["Arn", "RoleId"])
}

pub(super) fn managed_policy_schema() -> TypeSchema {
    TypeSchema::new(&["PolicyArn"], &["ManagedPolicyName", "Path"], &["PolicyArn"])
}

/// An inline policy is read by its name and roles, which its identifier does not carry: it has no read handler.
pub(super) fn policy_schema() -> TypeSchema {
    TypeSchema {
        handlers: vec!["create".into(), "update".into(), "delete".into()],
        ..TypeSchema::new(&["Id"], &[], &["Id"])
    }
}

/// One IAM action as the caller, with the query parameters given.
fn call(store: &Store, scope: &Scope, action: &str, params: Vec<(String, String)>) -> Result<(), Failure> {
    crate::iam::handle(store, action, &Params(params), &scope.context)
        .map(|_| ())
        .map_err(failure)
}

/// Asks the caller's policies for a read of `resource` (an ARN).
pub(super) fn allow_read(store: &Store, scope: &Scope, action: &str, resource: &str) -> Result<(), Failure> {
    crate::authz::authorize(
        &store.state(),
        &scope.context,
        &crate::authz::Ask::new(action, resource),
    )
    .map_err(|denied| Failure::new("AccessDenied", denied.message))
}

/// The ARN of the caller's role `name` (with its path when it exists).
pub(super) fn role_arn(store: &Store, scope: &Scope, name: &str) -> String {
    store
        .state()
        .roles
        .by_name(&scope.account_id, name)
        .map(|role| role.arn.clone())
        .unwrap_or_else(|| format!("arn:{}:iam::{}:role/{name}", scope.partition, scope.account_id))
}

fn failure(error: QueryError) -> Failure {
    let code = match error.code {
        "AccessDenied" => "AccessDenied",
        "NoSuchEntity" => "NotFound",
        "EntityAlreadyExists" => "AlreadyExists",
        "LimitExceeded" => "ServiceLimitExceeded",
        "DeleteConflict" => "ResourceConflict",
        "ServiceFailure" => "ServiceInternalError",
        _ => "InvalidRequest",
    };
    Failure::new(code, format!("{} ({})", error.message, error.code))
}

fn pair(key: impl Into<String>, value: impl Into<String>) -> (String, String) {
    (key.into(), value.into())
}

/// A policy document as IAM takes it: a JSON object written out, or a string as given.
fn document(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match &value[key] {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `[{PolicyName, PolicyDocument}]` → (name, document).
fn inline_policies(value: &Value) -> Vec<(String, String)> {
    value["Policies"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some((
                        item["PolicyName"].as_str()?.to_owned(),
                        document(&item["PolicyDocument"]),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A name as CloudFormation makes one for a resource without its own: `{stack}-{logical id}-{12 characters}`, at
/// most `max` characters.
pub(super) fn generated_name(scope: &Scope, logical_id: &str, max: usize) -> String {
    let suffix: String = crate::ids::new_uuid()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    let stack = scope.stack_name.as_deref().unwrap_or("CloudControl");
    let room = max.saturating_sub(suffix.len() + 2);
    let mut prefix = format!("{stack}-{logical_id}");
    prefix.truncate(room);
    format!("{prefix}-{suffix}")
}

pub(super) fn create_role(store: &Store, scope: &Scope, logical_id: &str, desired: &Value) -> Result<Made, Failure> {
    let name = text(desired, "RoleName").unwrap_or_else(|| generated_name(scope, logical_id, 64));
    let mut params = vec![
        pair("RoleName", &name),
        pair(
            "AssumeRolePolicyDocument",
            document(&desired["AssumeRolePolicyDocument"]),
        ),
    ];
    for key in ["Path", "Description", "MaxSessionDuration"] {
        if let Some(value) = text(desired, key) {
            params.push(pair(key, value));
        }
    }
    for (index, tag) in desired["Tags"].as_array().into_iter().flatten().enumerate() {
        params.push(pair(
            format!("Tags.member.{}.Key", index + 1),
            tag["Key"].as_str().unwrap_or_default(),
        ));
        params.push(pair(
            format!("Tags.member.{}.Value", index + 1),
            tag["Value"].as_str().unwrap_or_default(),
        ));
    }
    call(store, scope, "CreateRole", params)?;
    let made = Made {
        physical_id: name.clone(),
        model: desired.clone(),
    };
    let attached = attach_role_policies(store, scope, &name, &[], &strings(desired, "ManagedPolicyArns"))
        .and_then(|()| put_role_policies(store, scope, &name, &[], &inline_policies(desired)));
    if let Err(failure) = attached {
        let _ = delete_role(store, scope, &made);
        return Err(failure);
    }
    Ok(Made {
        model: read_role(store, scope, &made)?,
        ..made
    })
}

fn attach_role_policies(
    store: &Store,
    scope: &Scope,
    role: &str,
    old: &[String],
    new: &[String],
) -> Result<(), Failure> {
    for arn in new.iter().filter(|arn| !old.contains(arn)) {
        call(
            store,
            scope,
            "AttachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    for arn in old.iter().filter(|arn| !new.contains(arn)) {
        call(
            store,
            scope,
            "DetachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    Ok(())
}

fn put_role_policies(
    store: &Store,
    scope: &Scope,
    role: &str,
    old: &[(String, String)],
    new: &[(String, String)],
) -> Result<(), Failure> {
    for (name, document) in new.iter().filter(|policy| !old.contains(policy)) {
        call(
            store,
            scope,
            "PutRolePolicy",
            vec![
                pair("RoleName", role),
                pair("PolicyName", name),
                pair("PolicyDocument", document),
            ],
        )?;
    }
    for (name, _) in old.iter().filter(|(name, _)| !new.iter().any(|(kept, _)| kept == name)) {
        call(
            store,
            scope,
            "DeleteRolePolicy",
            vec![pair("RoleName", role), pair("PolicyName", name)],
        )?;
    }
    Ok(())
}

pub(super) fn update_role(
    store: &Store,
    scope: &Scope,
    current: &Made,
    desired: &Value,
    previous: &Value,
) -> Result<Made, Failure> {
    let role = &current.physical_id;
    if desired["AssumeRolePolicyDocument"] != previous["AssumeRolePolicyDocument"] {
        call(
            store,
            scope,
            "UpdateAssumeRolePolicy",
            vec![
                pair("RoleName", role),
                pair("PolicyDocument", document(&desired["AssumeRolePolicyDocument"])),
            ],
        )?;
    }
    attach_role_policies(
        store,
        scope,
        role,
        &strings(previous, "ManagedPolicyArns"),
        &strings(desired, "ManagedPolicyArns"),
    )?;
    put_role_policies(
        store,
        scope,
        role,
        &inline_policies(previous),
        &inline_policies(desired),
    )?;
    {
        let mut state = store.state();
        if let Some(found) = state.roles.by_name_mut(&scope.account_id, role) {
            found.description = text(desired, "Description");
            if let Some(seconds) = text(desired, "MaxSessionDuration").and_then(|s| s.parse().ok()) {
                found.max_session_duration = seconds;
            }
        }
    }
    Ok(Made {
        physical_id: role.clone(),
        model: read_role(store, scope, current)?,
    })
}

pub(super) fn delete_role(store: &Store, scope: &Scope, current: &Made) -> Result<(), Failure> {
    let role = &current.physical_id;
    let (inline, attached) = {
        let state = store.state();
        match state.roles.by_name(&scope.account_id, role) {
            None => return Ok(()),
            Some(found) => (
                found.inline_policies.keys().cloned().collect::<Vec<_>>(),
                found.attached_policies.clone(),
            ),
        }
    };
    for name in inline {
        call(
            store,
            scope,
            "DeleteRolePolicy",
            vec![pair("RoleName", role), pair("PolicyName", name)],
        )?;
    }
    for arn in attached {
        call(
            store,
            scope,
            "DetachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    match call(store, scope, "DeleteRole", vec![pair("RoleName", role)]) {
        Err(failure) if failure.code == "NotFound" => Ok(()),
        other => other,
    }
}

pub(super) fn read_role(store: &Store, scope: &Scope, current: &Made) -> Result<Value, Failure> {
    let state = store.state();
    let role = state
        .roles
        .by_name(&scope.account_id, &current.physical_id)
        .ok_or_else(|| Failure::new("NotFound", format!("Role {} does not exist", current.physical_id)))?;
    let mut model = json!({
        "RoleName": role.name,
        "Path": role.path,
        "Arn": role.arn,
        "RoleId": role.role_id,
        "AssumeRolePolicyDocument": serde_json::from_str::<Value>(&role.trust_policy_document)
            .unwrap_or_else(|_| json!(role.trust_policy_document)),
        "MaxSessionDuration": role.max_session_duration,
    });
    if let Some(description) = &role.description {
        model["Description"] = json!(description);
    }
    if !role.attached_policies.is_empty() {
        model["ManagedPolicyArns"] = json!(role.attached_policies);
    }
    if !role.inline_policies.is_empty() {
        model["Policies"] = role
            .inline_policies
            .iter()
            .map(|(name, text)| {
                json!({"PolicyName": name, "PolicyDocument": serde_json::from_str::<Value>(text).unwrap_or(json!(text))})
            })
            .collect();
    }
    if !role.tags.is_empty() {
        model["Tags"] = role
            .tags
            .iter()
            .map(|(key, value)| json!({"Key": key, "Value": value}))
            .collect();
    }
    Ok(model)
}

pub(super) fn create_managed_policy(
    store: &Store,
    scope: &Scope,
    logical_id: &str,
    desired: &Value,
) -> Result<Made, Failure> {
    refuse_users_and_groups(desired)?;
    let name = text(desired, "ManagedPolicyName").unwrap_or_else(|| generated_name(scope, logical_id, 128));
    let path = text(desired, "Path").unwrap_or_else(|| "/".to_owned());
    let mut params = vec![
        pair("PolicyName", &name),
        pair("Path", &path),
        pair("PolicyDocument", document(&desired["PolicyDocument"])),
    ];
    if let Some(description) = text(desired, "Description") {
        params.push(pair("Description", description));
    }
    call(store, scope, "CreatePolicy", params)?;
    let arn = format!("arn:{}:iam::{}:policy{path}{name}", scope.partition, scope.account_id);
    let made = Made {
        physical_id: arn.clone(),
        model: json!({}),
    };
    for role in strings(desired, "Roles") {
        if let Err(failure) = call(
            store,
            scope,
            "AttachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", &arn)],
        ) {
            let _ = delete_managed_policy(store, scope, &made);
            return Err(failure);
        }
    }
    let mut model = desired.clone();
    model["PolicyArn"] = json!(arn);
    Ok(Made { model, ..made })
}

/// Users and groups are not emulated: a template that attaches policies to them is refused before anything is made.
fn refuse_users_and_groups(desired: &Value) -> Result<(), Failure> {
    for key in ["Users", "Groups"] {
        if desired[key].as_array().is_some_and(|items| !items.is_empty()) {
            return Err(Failure::new(
                "InvalidRequest",
                format!("{key} are not emulated: attach the policy to Roles"),
            ));
        }
    }
    Ok(())
}

pub(super) fn update_managed_policy(
    store: &Store,
    scope: &Scope,
    current: &Made,
    desired: &Value,
    previous: &Value,
) -> Result<Made, Failure> {
    refuse_users_and_groups(desired)?;
    let arn = &current.physical_id;
    if desired["PolicyDocument"] != previous["PolicyDocument"] {
        let new_document = document(&desired["PolicyDocument"]);
        if let Some(problem) = crate::authz::permission_policy_problem(&new_document) {
            return Err(Failure::new("InvalidRequest", problem));
        }
        // IAM makes a new default version; this emulator keeps the one version, replaced.
        if let Some(policy) = store.state().policies.get_mut(arn) {
            policy.document = new_document;
        }
    }
    for role in strings(desired, "Roles")
        .iter()
        .filter(|r| !strings(previous, "Roles").contains(r))
    {
        call(
            store,
            scope,
            "AttachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    for role in strings(previous, "Roles")
        .iter()
        .filter(|r| !strings(desired, "Roles").contains(r))
    {
        call(
            store,
            scope,
            "DetachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    let mut model = desired.clone();
    model["PolicyArn"] = json!(arn);
    Ok(Made {
        physical_id: arn.clone(),
        model,
    })
}

pub(super) fn delete_managed_policy(store: &Store, scope: &Scope, current: &Made) -> Result<(), Failure> {
    let arn = &current.physical_id;
    let attached: Vec<String> = store
        .state()
        .roles
        .iter()
        .filter(|role| role.account_id == scope.account_id && role.attached_policies.contains(arn))
        .map(|role| role.name.clone())
        .collect();
    for role in attached {
        call(
            store,
            scope,
            "DetachRolePolicy",
            vec![pair("RoleName", role), pair("PolicyArn", arn)],
        )?;
    }
    match call(store, scope, "DeletePolicy", vec![pair("PolicyArn", arn)]) {
        Err(failure) if failure.code == "NotFound" => Ok(()),
        other => other,
    }
}

pub(super) fn create_policy(store: &Store, scope: &Scope, logical_id: &str, desired: &Value) -> Result<Made, Failure> {
    refuse_users_and_groups(desired)?;
    let name = text(desired, "PolicyName").unwrap_or_default();
    let document = document(&desired["PolicyDocument"]);
    let mut done: Vec<String> = Vec::new();
    for role in strings(desired, "Roles") {
        let put = call(
            store,
            scope,
            "PutRolePolicy",
            vec![
                pair("RoleName", &role),
                pair("PolicyName", &name),
                pair("PolicyDocument", &document),
            ],
        );
        if let Err(failure) = put {
            for made in &done {
                let _ = call(
                    store,
                    scope,
                    "DeleteRolePolicy",
                    vec![pair("RoleName", made), pair("PolicyName", &name)],
                );
            }
            return Err(failure);
        }
        done.push(role);
    }
    let id = generated_name(scope, logical_id, 64);
    let mut model = desired.clone();
    model["Id"] = json!(id);
    Ok(Made { physical_id: id, model })
}

pub(super) fn update_policy(
    store: &Store,
    scope: &Scope,
    current: &Made,
    desired: &Value,
    previous: &Value,
) -> Result<Made, Failure> {
    delete_policy(
        store,
        scope,
        &Made {
            physical_id: current.physical_id.clone(),
            model: previous.clone(),
        },
    )?;
    let made = create_policy(store, scope, "", desired)?;
    let mut model = made.model;
    model["Id"] = json!(current.physical_id);
    Ok(Made {
        physical_id: current.physical_id.clone(),
        model,
    })
}

pub(super) fn delete_policy(store: &Store, scope: &Scope, current: &Made) -> Result<(), Failure> {
    let name = text(&current.model, "PolicyName").unwrap_or_default();
    for role in strings(&current.model, "Roles") {
        match call(
            store,
            scope,
            "DeleteRolePolicy",
            vec![pair("RoleName", role), pair("PolicyName", &name)],
        ) {
            Err(failure) if failure.code != "NotFound" => return Err(failure),
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn read_managed_policy(store: &Store, current: &Made) -> Result<Value, Failure> {
    let state = store.state();
    let policy = state
        .policies
        .get(&current.physical_id)
        .ok_or_else(|| Failure::new("NotFound", format!("Policy {} does not exist", current.physical_id)))?;
    let roles: Vec<&str> = state
        .roles
        .iter()
        .filter(|role| role.attached_policies.contains(&policy.arn))
        .map(|role| role.name.as_str())
        .collect();
    let mut model = json!({
        "ManagedPolicyName": policy.name,
        "Path": policy.path,
        "PolicyArn": policy.arn,
        "PolicyDocument": serde_json::from_str::<Value>(&policy.document).unwrap_or(json!(policy.document)),
    });
    if let Some(description) = &policy.description {
        model["Description"] = json!(description);
    }
    if !roles.is_empty() {
        model["Roles"] = json!(roles);
    }
    Ok(model)
}

pub(super) fn read_policy(store: &Store, current: &Made) -> Result<Value, Failure> {
    let name = text(&current.model, "PolicyName").unwrap_or_default();
    let state = store.state();
    let roles: Vec<&str> = strings(&current.model, "Roles")
        .iter()
        .filter_map(|role| {
            state
                .roles
                .iter()
                .find(|found| &found.name == role && found.inline_policies.contains_key(&name))
                .map(|found| found.name.as_str())
        })
        .collect();
    if roles.is_empty() {
        return Err(Failure::new("NotFound", format!("Policy {name} is on no role")));
    }
    let mut model = current.model.clone();
    model["Roles"] = json!(roles);
    Ok(model)
}
