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
            let resources = references
                .refs
                .iter()
                .filter(|name| !is_pseudo_parameter(name) && template.parameter(name).is_none())
                .chain(&references.get_atts);
            for name in resources {
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
    if !unresolved.is_empty() {
        return Err(TemplateError::UnresolvedDependencies {
            names: name_list(unresolved.iter().map(String::as_str)),
            block: "Resources",
        });
    }
    let graph = DependencyGraph { dependencies };
    graph.waves()?;
    Ok(graph)
}

/// The creation waves of the resources that exist under `conditions` (see [`DependencyGraph::waves`]).
pub(crate) fn dependency_waves(
    template: &Template,
    conditions: &Conditions,
) -> Result<Vec<Vec<String>>, TemplateError> {
    dependency_graph(template, Some(conditions))?.waves()
}
