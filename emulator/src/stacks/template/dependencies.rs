//! The order of a stack's resources: each waits for those it refers to (Ref, Fn::GetAtt, Fn::Sub) and
//! those of its DependsOn. Waves of resources that may be created together; deletion runs them backwards.

use std::collections::{BTreeMap, BTreeSet};

use super::conditions::Conditions;
use super::error::{TemplateError, name_list};
use super::intrinsics::is_pseudo_parameter;
use super::references::References;
use super::template::Template;

/// Which resources each resource of a stack waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DependencyGraph {
    dependencies: BTreeMap<String, BTreeSet<String>>,
}

impl DependencyGraph {
    /// The resources `logical_id` waits for; `None` for a resource not in the stack.
    pub(crate) fn dependencies_of(&self, logical_id: &str) -> Option<&BTreeSet<String>> {
        self.dependencies.get(logical_id)
    }

    /// The resources in creation order: each wave's resources depend only on earlier waves' (each wave
    /// sorted by logical id). Deletion takes the waves in reverse.
    pub(crate) fn waves(&self) -> Result<Vec<Vec<String>>, TemplateError> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut waves = Vec::new();
        while done.len() < self.dependencies.len() {
            let wave: Vec<String> = self
                .dependencies
                .iter()
                .filter(|(id, dependencies)| {
                    !done.contains(id.as_str())
                        && dependencies.iter().all(|dependency| done.contains(dependency.as_str()))
                })
                .map(|(id, _)| id.clone())
                .collect();
            if wave.is_empty() {
                return Err(TemplateError::CircularDependency(name_list(self.cycles(&done))));
            }
            for id in &wave {
                if let Some((id, _)) = self.dependencies.get_key_value(id) {
                    done.insert(id);
                }
            }
            waves.push(wave);
        }
        Ok(waves)
    }

    /// The resources not `done` that lie on a cycle.
    fn cycles(&self, done: &BTreeSet<&str>) -> Vec<&str> {
        self.dependencies
            .keys()
            .map(String::as_str)
            .filter(|id| !done.contains(id) && self.reaches(id, id))
            .collect()
    }

    /// Whether `to` is reachable from `from` by one or more dependency edges.
    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&str> = vec![from];
        while let Some(id) = pending.pop() {
            for next in self.dependencies.get(id).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.as_str()) {
                    pending.push(next);
                }
            }
        }
        false
    }
}

/// The graph of the resources that exist under `conditions` (all of them, and both branches of each
/// `Fn::If`, when `None`). Refusing references to anything undeclared or conditioned out, and cycles.
pub(crate) fn dependency_graph(
    template: &Template,
    conditions: Option<&Conditions>,
) -> Result<DependencyGraph, TemplateError> {
    let mut active = BTreeSet::new();
    for resource in template.resources() {
        let exists = match (conditions, &resource.condition) {
            (Some(conditions), condition) => conditions.allows(condition.as_deref())?,
            (None, Some(condition)) if !template.conditions().contains_key(condition) => {
                return Err(TemplateError::UndefinedCondition(condition.clone()));
            }
            (None, _) => true,
        };
        if exists {
            active.insert(resource.logical_id.as_str());
        }
    }
    let mut unresolved = BTreeSet::new();
    let mut dependencies = BTreeMap::new();
    for resource in template
        .resources()
        .iter()
        .filter(|r| active.contains(r.logical_id.as_str()))
    {
        let mut edges = BTreeSet::new();
        let values = std::iter::once(&resource.properties).chain(resource.attributes.values());
        for value in values {
            let references = References::of(value, conditions)?;
            references.check_declared(template)?;
            if let Some(undeclared) = references
                .get_atts
                .iter()
                .find(|name| template.resource(name).is_none())
            {
                return Err(TemplateError::GetAttUndefinedResource(undeclared.clone()));
            }
            for name in resources_named(template, &references) {
                if active.contains(name.as_str()) {
                    edges.insert(name.clone());
                } else {
                    unresolved.insert(name.clone());
                }
            }
        }
        for name in &resource.depends_on {
            if active.contains(name.as_str()) {
                edges.insert(name.clone());
            } else {
                unresolved.insert(name.clone());
            }
        }
        dependencies.insert(resource.logical_id.clone(), edges);
    }
    unresolved_in(&unresolved, "Resources")?;
    // The outputs that will exist must not name a resource that will not.
    if let Some(conditions) = conditions {
        for output in template.outputs() {
            if !conditions.allows(output.condition.as_deref())? {
                continue;
            }
            for value in std::iter::once(&output.value).chain(&output.export_name) {
                let references = References::of(value, Some(conditions))?;
                unresolved.extend(
                    resources_named(template, &references)
                        .filter(|name| !active.contains(name.as_str()))
                        .cloned(),
                );
            }
        }
        unresolved_in(&unresolved, "Outputs")?;
    }
    let graph = DependencyGraph { dependencies };
    graph.waves()?;
    Ok(graph)
}

/// The names `references` gives that can only be resources (neither parameters nor pseudo parameters).
fn resources_named<'a>(template: &'a Template, references: &'a References) -> impl Iterator<Item = &'a String> {
    references
        .refs
        .iter()
        .filter(|name| !is_pseudo_parameter(name) && template.parameter(name).is_none())
        .chain(&references.get_atts)
}

fn unresolved_in(names: &BTreeSet<String>, block: &'static str) -> Result<(), TemplateError> {
    if names.is_empty() {
        return Ok(());
    }
    Err(TemplateError::UnresolvedDependencies {
        names: name_list(names.iter().map(String::as_str)),
        block,
    })
}

/// The creation waves of the resources that exist under `conditions` (see [`DependencyGraph::waves`]).
pub(crate) fn dependency_waves(
    template: &Template,
    conditions: &Conditions,
) -> Result<Vec<Vec<String>>, TemplateError> {
    dependency_graph(template, Some(conditions))?.waves()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stacks::template::{evaluate_conditions, resolve_parameters, test_support::pseudo};

    const TEMPLATE: &str = r#"
Parameters:
  WithQueue: {Type: String, Default: "yes"}
Conditions:
  HasQueue: !Equals [!Ref WithQueue, "yes"]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Condition: HasQueue
  Role:
    Type: AWS::IAM::Role
    Properties:
      Description: !Sub "reads ${Queue.Arn} in ${AWS::Region}"
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref Role]
      Target: !If [HasQueue, !GetAtt Queue.Arn, !Ref AWS::NoValue]
  Waiter:
    Type: AWS::CloudFormation::WaitConditionHandle
    DependsOn: [Policy]
"#;

    fn graph(with_queue: &str) -> Result<DependencyGraph, TemplateError> {
        let template = Template::parse(TEMPLATE)?;
        let given = BTreeMap::from([("WithQueue".to_owned(), with_queue.to_owned())]);
        let parameters = resolve_parameters(&template, &given, &|_| None)?;
        let conditions = evaluate_conditions(&template, &parameters, &pseudo())?;
        dependency_graph(&template, Some(&conditions))
    }

    #[test]
    fn waves_follow_refs_get_atts_subs_and_depends_on() {
        let graph = graph("yes").unwrap();
        assert_eq!(
            graph.waves().unwrap(),
            [vec!["Queue"], vec!["Role"], vec!["Policy"], vec!["Waiter"]]
        );
        let policy = graph.dependencies_of("Policy").unwrap();
        assert_eq!(policy.iter().collect::<Vec<_>>(), ["Queue", "Role"]);
    }

    #[test]
    fn a_reference_to_a_resource_conditioned_out_is_unresolved() {
        // Policy's reference sits in the Fn::If branch not taken; Role's Sub needs the queue.
        assert_eq!(
            graph("no").unwrap_err().to_string(),
            "Template format error: Unresolved resource dependencies [Queue] in the Resources block of the template"
        );
    }

    #[test]
    fn an_output_naming_a_resource_conditioned_out_is_unresolved() {
        let body = format!(
            "{TEMPLATE}Outputs:\n  QueueArn: {{Value: !GetAtt Queue.Arn}}\n  Kept: {{Condition: HasQueue, Value: !Ref Queue}}\n"
        );
        let body = body.replace("!Sub \"reads ${Queue.Arn} in ${AWS::Region}\"", "reads");
        let template = Template::parse(&body).unwrap();
        let given = BTreeMap::from([("WithQueue".to_owned(), "no".to_owned())]);
        let parameters = resolve_parameters(&template, &given, &|_| None).unwrap();
        let conditions = evaluate_conditions(&template, &parameters, &pseudo()).unwrap();
        assert_eq!(
            dependency_waves(&template, &conditions).unwrap_err().to_string(),
            "Template format error: Unresolved resource dependencies [Queue] in the Outputs block of the template"
        );
    }

    #[test]
    fn undeclared_names_and_cycles_are_refused_at_parse_time() {
        let parse = |resources: &str| {
            Template::parse(&format!("Resources:\n{resources}"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            parse("  A: {Type: T, Properties: {X: !Ref Nope, Y: !Sub '${Other}'}, DependsOn: Gone}\n"),
            "Template format error: Unresolved resource dependencies [Gone, Nope, Other] in the Resources block of the template"
        );
        assert_eq!(
            parse("  A: {Type: T, Properties: {X: !GetAtt Nope.Arn}}\n"),
            "Template error: instance of Fn::GetAtt references undefined resource Nope"
        );
        assert_eq!(
            parse(
                "  A: {Type: T, Properties: {X: !Ref B}}\n  B: {Type: T, Properties: {X: !GetAtt C.Arn}}\n  C: {Type: T, DependsOn: A}\n  D: {Type: T, DependsOn: C}\n"
            ),
            "Circular dependency between resources: [A, B, C]"
        );
        assert_eq!(
            parse("  A: {Type: T, Properties: {X: !Ref A}}\n"),
            "Circular dependency between resources: [A]"
        );
        assert_eq!(
            parse("  A: {Type: T, Condition: Nope}\n"),
            "Template format error: Condition Nope is not defined."
        );
        assert_eq!(
            parse("  A: {Type: T, Properties: {X: !If [Nope, a, b]}}\n"),
            "Template error: unresolved condition dependency Nope in Fn::If"
        );
        assert_eq!(
            parse("  A: {Type: T, Properties: {X: !FindInMap [Nope, a, b]}}\n"),
            "Template error: Mapping named 'Nope' is not present in the 'Mappings' section of template."
        );
        assert!(
            parse("  A: {Type: T, Properties: {X: {Fn::Length: [a]}}}\n").starts_with(
                "Template format error: Encountered unsupported function: Fn::Length Supported functions are: ["
            )
        );
    }

    #[test]
    fn outputs_and_conditions_may_name_only_what_they_can_see() {
        let parse = |rest: &str| {
            Template::parse(&format!(
                "Parameters: {{P: {{Type: String}}}}\nResources:\n  A: {{Type: T}}\n{rest}"
            ))
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            parse("Outputs: {O: {Value: !Ref Nope}}\n"),
            "Template format error: Unresolved resource dependencies [Nope] in the Outputs block of the template"
        );
        assert_eq!(
            parse("Outputs: {O: {Value: !GetAtt P.Arn}}\n"),
            "Template error: instance of Fn::GetAtt references undefined resource P"
        );
        assert_eq!(
            parse("Conditions: {C: !Equals [!Ref A, x]}\n"),
            "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template"
        );
        assert_eq!(
            parse("Conditions: {C: !Not [!Condition D]}\n"),
            "Template format error: Condition D is not defined."
        );
        assert_eq!(
            parse("Outputs: {O: {Value: v, Condition: Nope}}\n"),
            "Template format error: Condition Nope is not defined."
        );
    }
}
