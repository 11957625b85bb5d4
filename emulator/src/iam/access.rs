//! What each IAM action is authorized on: the role or policy it names (a role by the ARN it has, with its path, or
//! would have), with the request's condition keys.

use super::policies::parse_policy_arn;
use crate::authz::Ask;
use crate::protocol::query::Params;
use crate::world::state::State as World;

/// The authorization questions of `action`, all of which must be allowed.
pub(super) fn ask(world: &World, action: &str, params: &Params, partition: &str, account: &str) -> Vec<Ask> {
    let iam_action = format!("iam:{action}");
    let role = || {
        let name = params.get("RoleName").unwrap_or_default();
        world.roles.by_name(account, name).map_or_else(
            || {
                let path = params.get("Path").unwrap_or("/");
                format!("arn:{partition}:iam::{account}:role{path}{name}")
            },
            |role| role.arn.clone(),
        )
    };
    let policy = || params.get("PolicyArn").unwrap_or_default().to_owned();
    match action {
        "ListRoles" | "ListPolicies" => vec![Ask::new(iam_action, "*")],
        "CreatePolicy" => {
            let path = params.get("Path").unwrap_or("/");
            let name = params.get("PolicyName").unwrap_or_default();
            vec![Ask::new(
                iam_action,
                format!("arn:{partition}:iam::{account}:policy{path}{name}"),
            )]
        }
        "GetPolicy" | "GetPolicyVersion" | "DeletePolicy" => vec![Ask::new(iam_action, policy())],
        "AttachRolePolicy" | "DetachRolePolicy" => {
            let arn = policy();
            let asked = Ask::new(iam_action, role());
            vec![if parse_policy_arn(&arn).is_some() {
                asked.with("iam:PolicyARN", [arn])
            } else {
                asked
            }]
        }
        "CreateRole" => {
            let tags: Vec<(String, String)> = params
                .tags("Tags")
                .into_iter()
                .filter_map(|(key, value)| Some((key?, value)))
                .collect();
            let tagged = tags.iter().map(|(key, value)| (key, value));
            let create = Ask::new(iam_action, role()).with_request_tags(tagged.clone());
            // Tags given at creation are tagging too, so they need iam:TagRole as well.
            let tag = (!tags.is_empty()).then(|| Ask::new("iam:TagRole", role()).with_request_tags(tagged));
            std::iter::once(create).chain(tag).collect()
        }
        _ => vec![Ask::new(iam_action, role())],
    }
}
