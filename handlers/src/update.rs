//! Update: Describe (NotFound when missing), then only the calls the change needs: UpdatePodIdentityAssociation
//! when an updatable field differs, UntagResource / TagResource for the tags that changed.
//!
//! The first call must stay a read: the provider holds the desired model to the resource schema while it is under
//! way, and refuses a model that fails before the handler goes on.

use crate::Action;
use crate::eks::{Association, AssociationChanges, EksApi, EksError, EksErrorKind};
use crate::error::HandlerError;
use crate::model::ResourceModel;
use crate::progress::ProgressEvent;
use crate::propagation::{ROLE_WAIT_DELAY_SECONDS, RoleWaitContext, is_role_not_propagated};
use crate::read::{describe, not_found_or};
use crate::request::ResourceRequest;
use crate::tags::{apply, diff, model_tags, resource_tags};
use crate::translate::{identify, model_from_association};

pub async fn update(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let desired = &request.desired;
    let desired_tags = resource_tags(&model_tags(desired.tags.as_deref())?, &request.stack_tags);
    let role_wait = RoleWaitContext::from_callback(request.callback_context.as_ref())?;
    let previous = request.previous.as_ref();
    if let Some(previous) = previous {
        Fixed::of_model(previous).reject_changes(desired)?;
    }
    // The primary identifier normally comes with the desired model; fall back on the previous one.
    let target = match previous {
        Some(previous) if desired.association_arn.is_none() && previous.association_arn.is_some() => {
            identify(previous, &request.scope)?
        }
        _ => identify(desired, &request.scope)?,
    };

    let current = describe(eks, Action::Update, &target).await?;
    Fixed::of_association(&current).reject_changes(desired)?;

    let changes = changes_from(&current, desired);
    let mut association = if changes.is_empty() {
        current
    } else {
        match eks
            .update_association(&target.cluster_name, &target.association_id, &changes)
            .await
        {
            Ok(association) => association,
            Err(error) if is_role_not_propagated(&error) => {
                let Some(next) = role_wait.next() else {
                    return Err(HandlerError::RoleNotFound {
                        role_arn: desired.role_arn.clone().unwrap_or_default(),
                        waited_seconds: role_wait.waited_seconds(),
                    });
                };
                // The model carries the identifier, as every IN_PROGRESS event must.
                let model = ResourceModel {
                    association_arn: Some(current.association_arn.clone()),
                    association_id: Some(current.association_id.clone()),
                    ..desired.clone()
                };
                return Ok(ProgressEvent::in_progress(
                    model,
                    next.to_value(),
                    ROLE_WAIT_DELAY_SECONDS,
                ));
            }
            // Another writer made the same change between our Describe and our Update: it is applied.
            Err(error) if is_nothing_to_change(&error) => {
                let now = describe(eks, Action::Update, &target).await?;
                if !changes_from(&now, desired).is_empty() {
                    return Err(not_found_or(Action::Update, &target, error));
                }
                now
            }
            Err(error) => return Err(not_found_or(Action::Update, &target, error)),
        }
    };

    let tag_changes = diff(&desired_tags, &association.tags);
    let arn = association.association_arn.as_str();
    if !tag_changes.to_remove.is_empty() {
        eks.untag_resource(arn, &tag_changes.to_remove)
            .await
            .map_err(|error| not_found_or(Action::Update, &target, error))?;
    }
    if !tag_changes.to_set.is_empty() {
        eks.tag_resource(arn, &tag_changes.to_set)
            .await
            .map_err(|error| not_found_or(Action::Update, &target, error))?;
    }

    let tags = apply(std::mem::take(&mut association.tags), &tag_changes);
    Ok(ProgressEvent::success(model_from_association(Association {
        tags,
        ..association
    })))
}

/// EKS's refusal of an update that changes nothing: "must change at least one of roleArn, …".
fn is_nothing_to_change(error: &EksError) -> bool {
    error.kind == EksErrorKind::InvalidRequest && error.message.contains("must change at least one")
}

/// The fields of `desired` that differ from the association. Never sends a field that did not change (EKS
/// re-checks, e.g., PassRole on every RoleArn it receives); sends "" to clear TargetRoleArn or Policy, since an
/// absent field keeps the old value.
pub fn changes_from(current: &Association, desired: &ResourceModel) -> AssociationChanges {
    let differs = |wanted: &Option<String>, actual: &Option<String>| {
        let wanted = wanted.as_deref().unwrap_or_default();
        (wanted != actual.as_deref().unwrap_or_default()).then(|| wanted.to_owned())
    };
    let wanted_disable = desired.disable_session_tags.unwrap_or(false);
    AssociationChanges {
        role_arn: desired.role_arn.clone().filter(|role| *role != current.role_arn),
        target_role_arn: differs(&desired.target_role_arn, &current.target_role_arn),
        policy: differs(&desired.policy, &current.policy),
        disable_session_tags: (wanted_disable != current.disable_session_tags.unwrap_or(false))
            .then_some(wanted_disable),
    }
}

/// What an update cannot change, as one side had it: ClusterName, Namespace and ServiceAccount are createOnly, and
/// the identifiers never change.
struct Fixed<'a>([(&'static str, Option<&'a str>); 5]);

impl<'a> Fixed<'a> {
    fn of_model(model: &'a ResourceModel) -> Self {
        Self([
            ("ClusterName", model.cluster_name.as_deref()),
            ("Namespace", model.namespace.as_deref()),
            ("ServiceAccount", model.service_account.as_deref()),
            ("AssociationArn", model.association_arn.as_deref()),
            ("AssociationId", model.association_id.as_deref()),
        ])
    }

    fn of_association(association: &'a Association) -> Self {
        Self([
            ("ClusterName", Some(&association.cluster_name)),
            ("Namespace", Some(&association.namespace)),
            ("ServiceAccount", Some(&association.service_account)),
            ("AssociationArn", Some(&association.association_arn)),
            ("AssociationId", Some(&association.association_id)),
        ])
    }

    /// NotUpdatable naming every fixed property that `desired` sets to another value.
    fn reject_changes(&self, desired: &ResourceModel) -> Result<(), HandlerError> {
        let wanted = Fixed::of_model(desired);
        let changed: Vec<&str> = self
            .0
            .iter()
            .zip(&wanted.0)
            .filter(|((_, before), (_, after))| matches!((before, after), (Some(b), Some(a)) if b != a))
            .map(|((name, _), _)| *name)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        Err(HandlerError::NotUpdatable(format!(
            "{} cannot be changed in place; changing it replaces the association",
            changed.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Association {
        Association {
            role_arn: "arn:aws:iam::111122223333:role/a".into(),
            target_role_arn: Some("arn:aws:iam::444455556666:role/t".into()),
            policy: None,
            disable_session_tags: Some(false),
            ..Association::default()
        }
    }

    #[test]
    fn unchanged_fields_are_not_sent() {
        let desired = ResourceModel {
            role_arn: Some("arn:aws:iam::111122223333:role/a".into()),
            target_role_arn: Some("arn:aws:iam::444455556666:role/t".into()),
            ..ResourceModel::default()
        };
        assert!(changes_from(&current(), &desired).is_empty());
    }

    #[test]
    fn removed_target_role_and_policy_are_cleared_with_empty_strings() {
        let mut with_policy = current();
        with_policy.policy = Some("{}".into());
        with_policy.disable_session_tags = Some(true);
        let desired = ResourceModel {
            role_arn: Some(with_policy.role_arn.clone()),
            ..ResourceModel::default()
        };
        let changes = changes_from(&with_policy, &desired);
        assert_eq!(
            changes,
            AssociationChanges {
                role_arn: None,
                target_role_arn: Some(String::new()),
                policy: Some(String::new()),
                disable_session_tags: Some(false),
            }
        );
    }

    #[test]
    fn a_new_role_is_the_only_change_sent() {
        let desired = ResourceModel {
            role_arn: Some("arn:aws:iam::111122223333:role/b".into()),
            target_role_arn: Some("arn:aws:iam::444455556666:role/t".into()),
            disable_session_tags: Some(false),
            ..ResourceModel::default()
        };
        assert_eq!(
            changes_from(&current(), &desired),
            AssociationChanges {
                role_arn: Some("arn:aws:iam::111122223333:role/b".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn create_only_changes_are_named() {
        let before = ResourceModel {
            namespace: Some("a".into()),
            cluster_name: Some("c".into()),
            ..Default::default()
        };
        let desired = ResourceModel {
            namespace: Some("b".into()),
            cluster_name: Some("c".into()),
            ..Default::default()
        };
        let error = Fixed::of_model(&before).reject_changes(&desired).unwrap_err();
        assert_eq!(error.code().as_str(), "NotUpdatable");
        assert!(error.to_string().starts_with("Namespace cannot be changed"));
    }
}
