//! The pod identity associations a template declares, resolved without deploying it, for checking their
//! roles' trust policies offline (`pia trust check --template`).
//!
//! Parameters, pseudo parameters, mappings and conditions resolve as in a stack. Of the template's own
//! resources only what is known before they exist resolves: `Ref` and `Fn::GetAtt …Arn` of an
//! `AWS::IAM::Role` with a `RoleName` and of an `AWS::EKS::Cluster` with a `Name`. Anything else stays the
//! expression as written, with the reason it cannot be resolved. When RoleArn or TargetRoleArn refers to an
//! `AWS::IAM::Role` of the template, that role's `AssumeRolePolicyDocument` comes along: it is the trust
//! policy the association will meet.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::conditions::{Conditions, evaluate_conditions};
use super::error::TemplateError;
use super::intrinsics::{EvalContext, NoResources, PseudoParameters, ResourceLookup, resolve, url_suffix};
use super::parameters::{Parameters, resolve_parameters};
use super::references::References;
use super::template::{ResourceDecl, Template};

const ASSOCIATION_TYPE: &str = "AWS::EKS::PodIdentityAssociation";
const ROLE_TYPE: &str = "AWS::IAM::Role";
const CLUSTER_TYPE: &str = "AWS::EKS::Cluster";

/// Where the stack would be deployed: the values of the pseudo parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackPlace {
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub stack_name: String,
}

/// A value of the template: resolved, or the expression as written (JSON) and why it cannot be resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateValue {
    Resolved(Value),
    Unresolved { expression: String, reason: String },
}

/// An `AWS::IAM::Role` of the template that an association uses.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRole {
    pub logical_id: String,
    /// Its `AssumeRolePolicyDocument` (an object, or a JSON string as some templates write it).
    pub trust_policy: TemplateValue,
}

/// One `AWS::EKS::PodIdentityAssociation` whose condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateAssociation {
    pub logical_id: String,
    /// Every property as given, resolved where it can be.
    pub properties: BTreeMap<String, TemplateValue>,
    /// The template's role RoleArn refers to (Ref, Fn::GetAtt, Fn::Sub), if it refers to one.
    pub role: Option<TemplateRole>,
    /// The template's role TargetRoleArn refers to, if it refers to one.
    pub target_role: Option<TemplateRole>,
}

/// A template that cannot be read, or parameters it does not accept; the message is CloudFormation's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct InvalidTemplate(TemplateError);

/// The associations of `body` (JSON or YAML) for a stack at `place` with `parameters` (given values over
/// the defaults).
pub fn pod_identity_associations(
    body: &str,
    parameters: &BTreeMap<String, String>,
    place: &StackPlace,
) -> Result<Vec<TemplateAssociation>, InvalidTemplate> {
    let template = Template::parse(body).map_err(InvalidTemplate)?;
    let parameters = resolve_parameters(&template, parameters, &|_| None).map_err(InvalidTemplate)?;
    let pseudo = PseudoParameters {
        account_id: place.account_id.clone(),
        region: place.region.clone(),
        partition: place.partition.clone(),
        url_suffix: url_suffix(&place.partition).to_owned(),
        stack_name: place.stack_name.clone(),
        // A stack id's last part is CloudFormation's own: a template that uses it cannot be checked exactly anyway.
        stack_id: format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
            place.partition, place.region, place.account_id, place.stack_name
        ),
        notification_arns: Vec::new(),
    };
    let conditions = evaluate_conditions(&template, &parameters, &pseudo).map_err(InvalidTemplate)?;
    let resolver = Resolver::new(&template, &parameters, &pseudo, &conditions);
    let mut associations = Vec::new();
    for resource in template.resources() {
        if resource.type_name != ASSOCIATION_TYPE
            || !conditions
                .allows(resource.condition.as_deref())
                .map_err(InvalidTemplate)?
        {
            continue;
        }
        let properties = resource.properties.as_object().cloned().unwrap_or_default();
        associations.push(TemplateAssociation {
            logical_id: resource.logical_id.clone(),
            role: resolver.role_of(properties.get("RoleArn")),
            target_role: resolver.role_of(properties.get("TargetRoleArn")),
            properties: properties
                .iter()
                .map(|(name, value)| (name.clone(), resolver.value(value)))
                .collect(),
        });
    }
    Ok(associations)
}

/// Resolves values of one stack, with what is known of its resources before they exist.
struct Resolver<'a> {
    template: &'a Template,
    parameters: &'a Parameters,
    pseudo: &'a PseudoParameters,
    conditions: &'a Conditions,
    known: KnownResources,
}

impl<'a> Resolver<'a> {
    fn new(
        template: &'a Template,
        parameters: &'a Parameters,
        pseudo: &'a PseudoParameters,
        conditions: &'a Conditions,
    ) -> Self {
        let mut resolver = Self {
            template,
            parameters,
            pseudo,
            conditions,
            known: KnownResources::default(),
        };
        resolver.known = KnownResources::of(&resolver);
        resolver
    }

    fn context<'b>(&'b self, resources: &'b dyn ResourceLookup) -> EvalContext<'b> {
        EvalContext {
            pseudo: self.pseudo,
            parameters: self.parameters,
            conditions: self.conditions,
            mappings: self.template.mappings(),
            resources,
            imports: &|_| None,
            azs: &[],
        }
    }

    fn value(&self, value: &Value) -> TemplateValue {
        match resolve(value, &self.context(&self.known)) {
            Ok(resolved) => TemplateValue::Resolved(resolved),
            Err(error) => TemplateValue::Unresolved {
                expression: value.to_string(),
                reason: self.unresolved_reason(value, &error),
            },
        }
    }

    /// Why `value` does not resolve: the resources it waits for, or the template's own error.
    fn unresolved_reason(&self, value: &Value, error: &TemplateError) -> String {
        let waits_for: Vec<String> = self
            .resources_named(value)
            .into_iter()
            .filter(|resource| !self.known.names.contains_key(&resource.logical_id))
            .map(|resource| format!("{} ({})", resource.logical_id, resource.type_name))
            .collect();
        if waits_for.is_empty() {
            error.to_string()
        } else {
            format!(
                "it depends on {}, known only once the stack creates it",
                waits_for.join(" and ")
            )
        }
    }

    /// The template's resources that `value` refers to.
    fn resources_named(&self, value: &Value) -> Vec<&'a ResourceDecl> {
        let Ok(references) = References::of(value, Some(self.conditions)) else {
            return Vec::new();
        };
        let names: BTreeSet<&String> = references.refs.iter().chain(&references.get_atts).collect();
        names
            .into_iter()
            .filter_map(|name| self.template.resource(name))
            .collect()
    }

    /// The one `AWS::IAM::Role` of the template a role ARN property refers to.
    fn role_of(&self, property: Option<&Value>) -> Option<TemplateRole> {
        let roles: Vec<&ResourceDecl> = self
            .resources_named(property?)
            .into_iter()
            .filter(|resource| resource.type_name == ROLE_TYPE)
            .collect();
        let [role] = roles.as_slice() else {
            return None;
        };
        let trust_policy = match role.properties.get("AssumeRolePolicyDocument") {
            Some(document) => self.value(document),
            None => TemplateValue::Unresolved {
                expression: String::new(),
                reason: format!("the role {} has no AssumeRolePolicyDocument", role.logical_id),
            },
        };
        Some(TemplateRole {
            logical_id: role.logical_id.clone(),
            trust_policy,
        })
    }
}

/// The names and ARNs of the template's roles and clusters that set their name.
#[derive(Default)]
struct KnownResources {
    names: BTreeMap<String, String>,
    arns: BTreeMap<String, String>,
}

impl KnownResources {
    fn of(resolver: &Resolver) -> Self {
        let mut known = Self::default();
        let pseudo = resolver.pseudo;
        for resource in resolver.template.resources() {
            if !resolver
                .conditions
                .allows(resource.condition.as_deref())
                .unwrap_or(false)
            {
                continue;
            }
            let name_of = |property: &str| -> Option<String> {
                let value = resource.properties.get(property)?;
                // Names refer to parameters, not to other resources; NoResources keeps this from looping.
                resolve(value, &resolver.context(&NoResources))
                    .ok()?
                    .as_str()
                    .map(str::to_owned)
            };
            let (name, arn) = match resource.type_name.as_str() {
                ROLE_TYPE => {
                    let Some(name) = name_of("RoleName") else { continue };
                    let path = name_of("Path").unwrap_or_else(|| "/".to_owned());
                    let arn = format!("arn:{}:iam::{}:role{path}{name}", pseudo.partition, pseudo.account_id);
                    (name, arn)
                }
                CLUSTER_TYPE => {
                    let Some(name) = name_of("Name") else { continue };
                    let arn = format!(
                        "arn:{}:eks:{}:{}:cluster/{name}",
                        pseudo.partition, pseudo.region, pseudo.account_id
                    );
                    (name, arn)
                }
                _ => continue,
            };
            known.names.insert(resource.logical_id.clone(), name);
            known.arns.insert(resource.logical_id.clone(), arn);
        }
        known
    }
}

impl ResourceLookup for KnownResources {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.names.get(logical_id).cloned()
    }

    fn attribute(&self, logical_id: &str, name: &str) -> Option<Value> {
        (name == "Arn")
            .then(|| self.arns.get(logical_id))
            .flatten()
            .map(|arn| Value::String(arn.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  ClusterName: {Type: String, Default: demo}
  Namespace: {Type: String}
  WithWorker: {Type: String, Default: "no", AllowedValues: ["yes", "no"]}
Conditions:
  Worker: !Equals [!Ref WithWorker, "yes"]
Resources:
  ApiRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${ClusterName}-api"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: pods.eks.amazonaws.com}
            Action: [sts:AssumeRole, sts:TagSession]
            Condition:
              StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}
  GeneratedRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: pods.eks.amazonaws.com}
            Action: sts:AssumeRole
            Condition:
              ArnEquals: {aws:SourceArn: !GetAtt Queue.Arn}
  Queue:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref ClusterName
      Namespace: !Ref Namespace
      ServiceAccount: api
      RoleArn: !GetAtt ApiRole.Arn
  Batch:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref ClusterName
      Namespace: batch
      ServiceAccount: batch
      RoleArn: !GetAtt GeneratedRole.Arn
  Worker:
    Type: AWS::EKS::PodIdentityAssociation
    Condition: Worker
    Properties:
      ClusterName: demo
      Namespace: work
      ServiceAccount: worker
      RoleArn: arn:aws:iam::111122223333:role/worker
"#;

    fn place() -> StackPlace {
        StackPlace {
            account_id: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            partition: "aws".to_owned(),
            stack_name: "pods".to_owned(),
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn associations_resolve_with_the_roles_they_use() {
        let associations = pod_identity_associations(TEMPLATE, &given(&[("Namespace", "payments")]), &place()).unwrap();
        let ids: Vec<&str> = associations.iter().map(|a| a.logical_id.as_str()).collect();
        assert_eq!(ids, ["Api", "Batch"], "Worker's condition is false");

        let api = &associations[0];
        assert_eq!(api.properties["Namespace"], TemplateValue::Resolved(json!("payments")));
        assert_eq!(
            api.properties["RoleArn"],
            TemplateValue::Resolved(json!("arn:aws:iam::111122223333:role/demo-api"))
        );
        let role = api.role.as_ref().unwrap();
        assert_eq!(role.logical_id, "ApiRole");
        let TemplateValue::Resolved(policy) = &role.trust_policy else {
            panic!("{:?}", role.trust_policy)
        };
        assert_eq!(
            policy["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}})
        );
        assert_eq!(api.target_role, None);

        let batch = &associations[1];
        let TemplateValue::Unresolved { expression, reason } = &batch.properties["RoleArn"] else {
            panic!("{:?}", batch.properties["RoleArn"])
        };
        assert_eq!(expression, r#"{"Fn::GetAtt":["GeneratedRole","Arn"]}"#);
        assert!(reason.contains("GeneratedRole (AWS::IAM::Role)"), "{reason}");
        let TemplateValue::Unresolved { reason, .. } = &batch.role.as_ref().unwrap().trust_policy else {
            panic!("the queue's ARN is not known")
        };
        assert!(reason.contains("Queue (AWS::SQS::Queue)"), "{reason}");
    }

    #[test]
    fn parameters_and_conditions_are_those_of_a_stack() {
        let with_worker = pod_identity_associations(
            TEMPLATE,
            &given(&[("Namespace", "payments"), ("WithWorker", "yes")]),
            &place(),
        )
        .unwrap();
        assert_eq!(with_worker.len(), 3);
        assert_eq!(with_worker[2].role, None, "a role outside the template");
        let missing = pod_identity_associations(TEMPLATE, &BTreeMap::new(), &place()).unwrap_err();
        assert!(missing.to_string().contains("Namespace"), "{missing}");
        let unknown = pod_identity_associations(TEMPLATE, &given(&[("Namespace", "x"), ("Other", "y")]), &place());
        assert!(unknown.unwrap_err().to_string().contains("Other"));
        assert!(pod_identity_associations("Resources: [", &BTreeMap::new(), &place()).is_err());
    }
}
