//! The intrinsic functions, resolved against one stack.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::conditions::evaluate_conditions;
use super::error::TemplateError;
use super::intrinsics::{EvalContext, resolve};
use super::parameters::resolve_parameters;
use super::template::Template;
use super::test_support::{Created, pseudo};
use super::yaml::parse_yaml;

const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod}
  Names: {Type: CommaDelimitedList, Default: "a, b,c"}
  Attribute: {Type: String, Default: Arn}
Mappings:
  Regions:
    eu-west-1: {Ami: ami-eu, Zones: [x, y]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
Resources:
  Role: {Type: AWS::IAM::Role}
"#;

fn exports(name: &str) -> Option<String> {
    (name == "shared-vpc").then(|| "vpc-123".to_owned())
}

/// Resolves a YAML value in the test stack, where `Role` exists.
fn eval(yaml: &str) -> Result<Value, TemplateError> {
    let template = Template::parse(TEMPLATE).unwrap();
    let parameters = resolve_parameters(&template, &BTreeMap::new(), &|_| None).unwrap();
    let pseudo = pseudo();
    let conditions = evaluate_conditions(&template, &parameters, &pseudo).unwrap();
    let created = Created::default().with(
        "Role",
        "demo-Role-ABC",
        &[
            ("Arn", json!("arn:aws:iam::111122223333:role/demo-Role-ABC")),
            ("RoleId", json!("AROA1")),
        ],
    );
    let azs = ["eu-west-1a".to_owned(), "eu-west-1b".to_owned()];
    let context = EvalContext {
        pseudo: &pseudo,
        parameters: &parameters,
        conditions: &conditions,
        mappings: template.mappings(),
        resources: &created,
        imports: &exports,
        azs: &azs,
    };
    resolve(&parse_yaml(yaml).unwrap(), &context)
}

fn error(yaml: &str) -> String {
    eval(yaml).unwrap_err().to_string()
}

#[test]
fn refs_give_pseudo_parameters_parameters_and_physical_ids() {
    assert_eq!(
        eval("[!Ref AWS::AccountId, !Ref AWS::Region, !Ref AWS::Partition, !Ref AWS::URLSuffix, !Ref AWS::StackName]"),
        Ok(json!(["111122223333", "eu-west-1", "aws", "amazonaws.com", "demo"]))
    );
    assert_eq!(
        eval("!Ref AWS::NotificationARNs"),
        Ok(json!(["arn:aws:sns:eu-west-1:111122223333:events"]))
    );
    assert_eq!(eval("!Ref Env"), Ok(json!("prod")));
    assert_eq!(eval("!Ref Names"), Ok(json!(["a", "b", "c"])));
    assert_eq!(eval("!Ref Role"), Ok(json!("demo-Role-ABC")));
}

#[test]
fn no_value_removes_the_key_or_the_item() {
    assert_eq!(
        eval("{Keep: 1, Drop: !Ref AWS::NoValue, List: [a, !If [IsDev, b, !Ref AWS::NoValue], c]}"),
        Ok(json!({"Keep": 1, "List": ["a", "c"]}))
    );
}

#[test]
fn get_att_in_both_forms_and_with_a_ref_for_the_attribute() {
    assert_eq!(eval("!GetAtt Role.RoleId"), Ok(json!("AROA1")));
    assert_eq!(eval("{Fn::GetAtt: Role.RoleId}"), Ok(json!("AROA1")));
    assert_eq!(
        eval("!GetAtt [Role, !Ref Attribute]"),
        Ok(json!("arn:aws:iam::111122223333:role/demo-Role-ABC"))
    );
    assert_eq!(
        error("!GetAtt Nope.Arn"),
        "Template error: instance of Fn::GetAtt references undefined resource Nope"
    );
    assert_eq!(
        error("!GetAtt Role.Bogus"),
        "Template error: resource Role does not support attribute type Bogus in Fn::GetAtt"
    );
}

#[test]
fn sub_substitutes_variables_attributes_and_keeps_literals() {
    assert_eq!(
        eval(
            r#"!Sub "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Env}/${Role}/${Role.RoleId}/${!Literal}""#
        ),
        Ok(json!(
            "arn:aws:x:eu-west-1:111122223333:prod/demo-Role-ABC/AROA1/${Literal}"
        ))
    );
    assert_eq!(
        eval(r#"!Sub ["${Name}-${Env}", {Name: !Join ["+", [a, b]]}]"#),
        Ok(json!("a+b-prod"))
    );
    assert_eq!(
        error("!Sub ${Names}"),
        "Template error: variable Names in Fn::Sub expression does not resolve to a string"
    );
    assert!(error("!Sub [a, b, c]").starts_with("Template error: One or more Fn::Sub intrinsic functions"));
}

#[test]
fn join_select_split_work_on_lists() {
    assert_eq!(eval(r#"!Join [":", [a, 1, true]]"#), Ok(json!("a:1:true")));
    assert_eq!(eval(r#"!Join ["-", !Ref Names]"#), Ok(json!("a-b-c")));
    assert_eq!(eval("!Select [1, !Ref Names]"), Ok(json!("b")));
    assert_eq!(eval(r#"!Select ["2", [x, y, z]]"#), Ok(json!("z")));
    assert_eq!(eval(r#"!Split [",", "a,,b"]"#), Ok(json!(["a", "", "b"])));
    assert_eq!(
        eval(r#"!Select [0, !Split ["/", !Ref AWS::StackId]]"#),
        Ok(json!("arn:aws:cloudformation:eu-west-1:111122223333:stack"))
    );
    assert_eq!(
        error("!Select [3, [a]]"),
        "Template error: Fn::Select cannot select nonexistent value at index 3"
    );
    assert!(error("!Join [only-one]").starts_with("Template error: every Fn::Join object requires two parameters"));
    assert!(error("!Split [',', [a]]").starts_with("Template error: every Fn::Split object requires two parameters"));
}

#[test]
fn if_follows_the_condition() {
    assert_eq!(eval("!If [IsProd, big, small]"), Ok(json!("big")));
    assert_eq!(eval("!If [IsDev, big, small]"), Ok(json!("small")));
    assert_eq!(
        error("!If [Nope, a, b]"),
        "Template error: unresolved condition dependency Nope in Fn::If"
    );
}

#[test]
fn find_in_map_reads_mappings_with_computed_keys() {
    assert_eq!(eval("!FindInMap [Regions, !Ref AWS::Region, Ami]"), Ok(json!("ami-eu")));
    assert_eq!(eval("!FindInMap [Regions, eu-west-1, Zones]"), Ok(json!(["x", "y"])));
    assert_eq!(
        eval("!FindInMap [Regions, us-east-1, Ami, {DefaultValue: none}]"),
        Ok(json!("none"))
    );
    assert_eq!(
        error("!FindInMap [Regions, us-east-1, Ami]"),
        "Template error: Unable to get mapping for Regions::us-east-1::Ami"
    );
    assert_eq!(
        error("!FindInMap [Nope, a, b]"),
        "Template error: Mapping named 'Nope' is not present in the 'Mappings' section of template."
    );
}

#[test]
fn import_value_base64_get_azs_and_cidr() {
    assert_eq!(eval("!ImportValue shared-vpc"), Ok(json!("vpc-123")));
    assert_eq!(error("!ImportValue missing"), "No export named missing found.");
    assert_eq!(eval("!Base64 hello"), Ok(json!("aGVsbG8=")));
    assert_eq!(eval("!GetAZs ''"), Ok(json!(["eu-west-1a", "eu-west-1b"])));
    assert_eq!(
        eval("{Fn::GetAZs: !Ref AWS::Region}"),
        Ok(json!(["eu-west-1a", "eu-west-1b"]))
    );
    assert_eq!(
        eval("!GetAZs us-east-2"),
        Ok(json!(["us-east-2a", "us-east-2b", "us-east-2c"]))
    );
    assert_eq!(
        eval("!Cidr [10.0.0.0/16, 2, 8]"),
        Ok(json!(["10.0.0.0/24", "10.0.1.0/24"]))
    );
    assert_eq!(
        eval(r#"!Select [1, !Cidr ["10.0.0.0/16", "3", "12"]]"#),
        Ok(json!("10.0.16.0/20"))
    );
}

#[test]
fn unknown_and_misplaced_functions_are_refused() {
    assert!(error("{Fn::Bogus: x}").starts_with("Template format error: Encountered unsupported function: Fn::Bogus"));
    assert_eq!(
        error("!Equals [a, a]"),
        "Template error: Fn::Equals can be used only in the Conditions and Rules sections of a template"
    );
    assert_eq!(
        error("{Ref: [a]}"),
        "Template format error: Every Ref object must have a single String value."
    );
}

#[test]
fn objects_that_are_not_calls_are_plain_values() {
    // An IAM statement's Condition, and an object with Ref beside other keys.
    assert_eq!(
        eval("{Condition: {StringEquals: {k: !Ref Env}}, Other: {Ref: x, More: y}}"),
        Ok(json!({"Condition": {"StringEquals": {"k": "prod"}}, "Other": {"Ref": "x", "More": "y"}}))
    );
}
