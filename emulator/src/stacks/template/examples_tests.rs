//! The repository's example templates and CDK-synthesized ones (`cdk synth` of examples/cdk, kept in
//! testdata), taken through every step a stack takes: parse, parameters, conditions, rules, order,
//! properties and outputs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

// The surface the stack engine uses.
use super::test_support::{Created, pseudo};
use super::{
    CAPABILITY_IAM, EvalContext, PseudoParameters, ResolvedOutput, Template, TemplateError, check_rules,
    dependency_waves, evaluate_conditions, outputs, resolve, resolve_parameters, summary,
};

const POD_IDENTITY: &str = include_str!("../../../../examples/cloudformation/pod-identity.yaml");
const CROSS_ACCOUNT: &str = include_str!("../../../../examples/cloudformation/pod-identity-cross-account.yaml");
const TARGET_ROLE: &str = include_str!("../../../../examples/cloudformation/target-role.yaml");
const CDK_POD_IDENTITY: &str = include_str!("testdata/cdk-pod-identity.template.json");
const CDK_CROSS_ACCOUNT: &str = include_str!("testdata/cdk-pod-identity-cross-account.template.json");

const BOOTSTRAP_VERSION: &str = "/cdk-bootstrap/hnb659fds/version";

/// A stack deployed from a template: its waves, each resource's resolved properties, its outputs.
struct Deployed {
    waves: Vec<Vec<String>>,
    properties: BTreeMap<String, Value>,
    outputs: Vec<ResolvedOutput>,
}

/// Deploys `body` in `region` as the stack engine would, each resource "created" with a physical id and
/// the attributes its outputs read.
fn deploy(
    body: &str,
    given: &[(&str, &str)],
    region: &str,
    bootstrap_version: &str,
) -> Result<Deployed, TemplateError> {
    let template = Template::parse(body)?;
    let given = given
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let ssm = |name: &str| (name == BOOTSTRAP_VERSION).then(|| bootstrap_version.to_owned());
    let parameters = resolve_parameters(&template, &given, &ssm)?;
    let pseudo = PseudoParameters {
        region: region.to_owned(),
        ..pseudo()
    };
    let conditions = evaluate_conditions(&template, &parameters, &pseudo)?;
    check_rules(&template, &parameters, &pseudo)?;
    let waves = dependency_waves(&template, &conditions)?;
    let mut created = Created::default();
    let mut properties = BTreeMap::new();
    for id in waves.iter().flatten() {
        let context = EvalContext {
            pseudo: &pseudo,
            parameters: &parameters,
            conditions: &conditions,
            mappings: template.mappings(),
            resources: &created,
            imports: &|_| None,
            azs: &[],
        };
        let resource = template.resource(id).expect("a wave names a declared resource");
        properties.insert(id.clone(), resolve(&resource.properties, &context)?);
        created = created.with(
            id,
            &format!("physical-{id}"),
            &[
                ("Arn", json!(format!("arn:aws:x::{}:{id}", pseudo.account_id))),
                (
                    "AssociationArn",
                    json!(format!(
                        "arn:aws:eks:{region}:{}:podidentityassociation/{id}",
                        pseudo.account_id
                    )),
                ),
                ("AssociationId", json!("a-1")),
                ("ExternalId", json!("ext-1")),
            ],
        );
    }
    let context = EvalContext {
        pseudo: &pseudo,
        parameters: &parameters,
        conditions: &conditions,
        mappings: template.mappings(),
        resources: &created,
        imports: &|_| None,
        azs: &[],
    };
    Ok(Deployed {
        waves,
        properties,
        outputs: outputs(&template, &context)?,
    })
}

fn output(deployed: &Deployed, key: &str) -> String {
    deployed
        .outputs
        .iter()
        .find(|output| output.key == key)
        .map(|output| output.value.clone())
        .unwrap_or_default()
}

#[test]
fn every_example_deploys_in_dependency_order() {
    type Given<'a> = &'a [(&'a str, &'a str)];
    type Waves<'a> = &'a [&'a [&'a str]];
    let cases: &[(&str, &str, Given, Waves)] = &[
        (
            "pod-identity.yaml",
            POD_IDENTITY,
            &[("ClusterName", "demo"), ("ServiceAccount", "app")],
            &[&["PodRole"], &["Association"]],
        ),
        (
            "pod-identity-cross-account.yaml",
            CROSS_ACCOUNT,
            &[
                ("ClusterName", "demo"),
                ("ServiceAccount", "app"),
                ("TargetRoleArn", "arn:aws:iam::444455556666:role/t"),
            ],
            &[&["PodRole"], &["Association"]],
        ),
        (
            "target-role.yaml",
            TARGET_ROLE,
            &[
                ("SourceRoleArn", "arn:aws:iam::111122223333:role/s"),
                ("ExternalId", "e"),
            ],
            &[&["TargetRole"]],
        ),
        (
            "cdk PodIdentity",
            CDK_POD_IDENTITY,
            &[],
            &[&["CDKMetadata", "PodRole29A92600"], &["Association"]],
        ),
        (
            "cdk PodIdentityCrossAccount",
            CDK_CROSS_ACCOUNT,
            &[],
            &[
                &["CDKMetadata", "PodRole29A92600"],
                &["Association", "PodRoleDefaultPolicy9DB0AF7E"],
            ],
        ),
    ];
    for (name, body, given, waves) in cases {
        let deployed = deploy(body, given, "eu-west-1", "6").unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(deployed.waves, *waves, "{name}");
    }
}

#[test]
fn the_pod_identity_example_resolves_its_trust_policy_and_outputs() {
    let deployed = deploy(
        POD_IDENTITY,
        &[("ClusterName", "demo"), ("ServiceAccount", "app")],
        "eu-west-1",
        "6",
    )
    .unwrap();
    let role = &deployed.properties["PodRole"];
    assert_eq!(role["Description"], "EKS Pod Identity role for default/app on demo");
    let condition = &role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
    assert_eq!(condition["StringEquals"]["aws:SourceAccount"], "111122223333");
    assert_eq!(
        condition["ArnEquals"]["aws:SourceArn"],
        "arn:aws:eks:eu-west-1:111122223333:cluster/demo"
    );
    assert_eq!(
        role["ManagedPolicyArns"],
        json!(["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
    );
    let association = &deployed.properties["Association"];
    assert_eq!(association["RoleArn"], "arn:aws:x::111122223333:PodRole");
    assert_eq!(association["Tags"], json!([{"Key": "app", "Value": "app"}]));
    assert_eq!(output(&deployed, "AssociationArn"), "physical-Association");
    assert_eq!(output(&deployed, "AssociationId"), "a-1");
    assert_eq!(
        summary(&Template::parse(POD_IDENTITY).unwrap()).capabilities,
        [CAPABILITY_IAM]
    );
}

#[test]
fn the_example_parameters_keep_their_constraints() {
    assert_eq!(
        deploy(
            POD_IDENTITY,
            &[("ClusterName", "-bad"), ("ServiceAccount", "app")],
            "eu-west-1",
            "6"
        )
        .err()
        .map(|e| e.to_string()),
        Some("Parameter 'ClusterName' must match pattern ^[0-9A-Za-z][A-Za-z0-9\\-_]*$".to_owned())
    );
    assert_eq!(
        deploy(CROSS_ACCOUNT, &[("ClusterName", "demo")], "eu-west-1", "6")
            .err()
            .map(|e| e.to_string()),
        Some("Parameters: [ServiceAccount, TargetRoleArn] must have values".to_owned())
    );
}

#[test]
fn cdk_templates_check_the_bootstrap_version_and_drop_metadata_where_unavailable() {
    let deployed = deploy(CDK_CROSS_ACCOUNT, &[], "eu-west-1", "30").unwrap();
    assert_eq!(output(&deployed, "ExternalId"), "ext-1");
    assert_eq!(output(&deployed, "RoleArn"), "arn:aws:x::111122223333:PodRole29A92600");
    assert_eq!(
        deployed.properties["PodRoleDefaultPolicy9DB0AF7E"]["Roles"],
        json!(["physical-PodRole29A92600"])
    );
    assert_eq!(
        deploy(CDK_CROSS_ACCOUNT, &[], "eu-west-1", "5").err().map(|e| e.to_string()),
        Some("Template error: CDK bootstrap stack version 6 required. Please run 'cdk bootstrap' with a recent version of the CDK CLI.".to_owned())
    );
    let elsewhere = deploy(CDK_POD_IDENTITY, &[], "xx-test-1", "6").unwrap();
    assert_eq!(elsewhere.waves, [vec!["PodRole29A92600"], vec!["Association"]]);
    let summary = summary(&Template::parse(CDK_POD_IDENTITY).unwrap());
    assert_eq!(summary.parameters[0].key, "BootstrapVersion");
    assert_eq!(summary.parameters[0].default_value.as_deref(), Some(BOOTSTRAP_VERSION));
}

#[test]
fn cdk_templates_need_the_bootstrap_parameter_in_the_store() {
    let template = Template::parse(CDK_POD_IDENTITY).unwrap();
    assert_eq!(
        resolve_parameters(&template, &BTreeMap::new(), &|_| None)
            .unwrap_err()
            .to_string(),
        "Template error: Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this account."
    );
}

proptest::proptest! {
    /// No body, however broken, makes parsing panic: the examples with a stretch cut out, and any text.
    #[test]
    fn broken_bodies_are_errors_not_panics(cut in 0usize..4000, length in 0usize..200, noise in ".{0,200}") {
        for body in [POD_IDENTITY, CDK_CROSS_ACCOUNT] {
            let start = cut.min(body.len());
            let end = (start + length).min(body.len());
            if let (Some(head), Some(tail)) = (body.get(..start), body.get(end..)) {
                let _ = Template::parse(&format!("{head}{tail}"));
            }
        }
        let _ = Template::parse(&noise);
        let _ = deploy(&format!("Resources: {{A: {{Type: T, Properties: {{X: {noise}}}}}}}"), &[], "eu-west-1", "6");
    }
}
