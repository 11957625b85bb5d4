//! `pia trust check --template`: each pod identity association of a CloudFormation template checked against the
//! trust policy the template gives its role, parameters and intrinsics resolved where they can be, the rest
//! named; and the other forms of policy people have at hand (YAML, `aws iam get-role` output).

use std::path::PathBuf;
use std::process::{Command, Stdio};

const CLUSTER: &str = "arn:aws:eks:eu-west-1:111122223333:cluster/demo";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pia(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("the pia binary runs");
    Run {
        code: output.status.code().expect("pia exited normally"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trust-template-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// A stack of three associations: one whose role the template trusts correctly (scoped to its namespace by
/// session tags), one whose role lacks sts:TagSession, one whose role's policy waits for a cluster's ARN.
const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ClusterName: {Type: String}
  Namespace: {Type: String, Default: payments}
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
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId
                aws:RequestTag/kubernetes-namespace: !Ref Namespace
              ArnEquals:
                aws:SourceArn: !Sub "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}"
  Api:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref ClusterName
      Namespace: !Ref Namespace
      ServiceAccount: api
      RoleArn: !GetAtt ApiRole.Arn
  BatchRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: batch
      AssumeRolePolicyDocument: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
  Batch:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref ClusterName
      Namespace: batch
      ServiceAccount: batch
      RoleArn: !GetAtt BatchRole.Arn
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/cluster
      ResourcesVpcConfig: {SubnetIds: [subnet-1]}
  LateRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: pods.eks.amazonaws.com}
            Action: [sts:AssumeRole, sts:TagSession]
            Condition: {ArnEquals: {aws:SourceArn: !GetAtt Cluster.Arn}}
  Late:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref Cluster
      Namespace: late
      ServiceAccount: late
      RoleArn: !GetAtt LateRole.Arn
"#;

#[test]
fn every_association_of_a_template_is_checked_against_its_roles_trust_policy() {
    let template = file("stack.yaml", TEMPLATE);
    let template = template.to_str().unwrap();
    let run = pia(&[
        "trust",
        "check",
        "--template",
        template,
        "--parameter",
        "ClusterName=demo",
        "--cluster-arn",
        CLUSTER,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let section = |id: &str| -> String {
        let start = run
            .stdout
            .find(&format!("== {id}\n"))
            .unwrap_or_else(|| panic!("{id}: {}", run.stdout));
        let rest = &run.stdout[start + 3..];
        rest[..rest.find("\n== ").unwrap_or(rest.len())].to_owned()
    };
    let api = section("Api");
    assert!(api.contains("Pods will get credentials"), "{api}");
    assert!(api.contains(&format!("Cluster: {CLUSTER} (session tags on)")), "{api}");
    let batch = section("Batch");
    assert!(batch.contains("Pods will NOT get credentials"), "{batch}");
    assert!(batch.contains("does not allow sts:TagSession"), "{batch}");
    let late = section("Late");
    assert!(
        late.contains("note: ClusterName {\"Ref\":\"Cluster\"} cannot be resolved"),
        "{late}"
    );
    assert!(
        late.contains("Not checked: the AssumeRolePolicyDocument of LateRole {"),
        "{late}"
    );
    assert!(
        late.contains("it depends on Cluster (AWS::EKS::Cluster), known only once the stack creates it"),
        "{late}"
    );
    assert!(
        run.stdout
            .ends_with("3 associations: 1 will get credentials, 1 will not, 1 not checked.\n"),
        "{}",
        run.stdout
    );

    // Another namespace than the role admits: the session tag condition refuses it.
    let other_namespace = pia(&[
        "trust",
        "check",
        "--template",
        template,
        "--parameter",
        "ClusterName=demo",
        "--parameter",
        "Namespace=other",
        "--cluster-arn",
        CLUSTER,
        "--output",
        "json",
    ]);
    let checks: serde_json::Value = serde_json::from_str(&other_namespace.stdout).unwrap();
    assert_eq!(checks[0]["logical_id"], serde_json::json!("Api"));
    assert_eq!(
        checks[0]["report"]["will_work"],
        serde_json::json!(true),
        "the role follows the parameter"
    );
    assert_eq!(checks[2]["report"], serde_json::Value::Null);
}

#[test]
fn template_input_errors_exit_2() {
    let template = file("errors.yaml", TEMPLATE);
    let template = template.to_str().unwrap();
    let cases: [(Vec<&str>, &str); 4] = [
        (vec![], "Parameters: [ClusterName] must have values"),
        (vec!["--parameter", "ClusterName"], "expected KEY=VALUE"),
        (
            vec!["--parameter", "ClusterName=demo", "--namespace", "x"],
            "cannot be used with",
        ),
        (
            vec!["--parameter", "ClusterName=demo", "--parameter", "Unknown=1"],
            "Unknown",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["trust", "check", "--template", template, "--cluster-arn", CLUSTER];
        args.extend(&extra);
        let run = pia(&args);
        assert_eq!(run.code, 2, "{extra:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{extra:?}: {}", run.stderr);
    }
    let empty = file("empty.yaml", "Resources:\n  Queue: {Type: AWS::SQS::Queue}\n");
    let run = pia(&[
        "trust",
        "check",
        "--template",
        empty.to_str().unwrap(),
        "--cluster-arn",
        CLUSTER,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("has no AWS::EKS::PodIdentityAssociation"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reads_yaml_and_get_role_output() {
    let yaml = file(
        "policy.yaml",
        "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Principal: {Service: pods.eks.amazonaws.com}\n    Action: [sts:AssumeRole, sts:TagSession]\n    Condition:\n      ArnEquals: {aws:SourceArn: 'arn:aws:eks:eu-west-1:111122223333:cluster/demo'}\n",
    );
    let run = pia(&["trust", "check", yaml.to_str().unwrap(), "--cluster-arn", CLUSTER]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // What `aws iam get-role --role-name app` prints; its Role.Arn is the association's RoleArn.
    let get_role = file(
        "get-role.json",
        r#"{"Role": {"Path": "/", "RoleName": "app", "RoleId": "AROAEXAMPLE", "Arn": "arn:aws:iam::444455556666:role/app",
            "CreateDate": "2024-01-01T00:00:00+00:00", "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}}}"#,
    );
    let run = pia(&["trust", "check", get_role.to_str().unwrap(), "--cluster-arn", CLUSTER]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("The role arn:aws:iam::444455556666:role/app is in account 444455556666"),
        "the role's ARN comes from the output: {}",
        run.stdout
    );
    let get_role_yaml = file(
        "get-role.yaml",
        "Role:\n  Arn: arn:aws:iam::111122223333:role/app\n  AssumeRolePolicyDocument:\n    Version: '2012-10-17'\n    Statement:\n    - Action: [sts:AssumeRole, sts:TagSession]\n      Effect: Allow\n      Principal: {Service: pods.eks.amazonaws.com}\n",
    );
    let run = pia(&[
        "trust",
        "check",
        get_role_yaml.to_str().unwrap(),
        "--cluster-arn",
        CLUSTER,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("no aws:SourceAccount or aws:SourceArn condition"),
        "{}",
        run.stdout
    );
    let broken = file("broken.yaml", "Statement: [\n");
    let run = pia(&["trust", "check", broken.to_str().unwrap(), "--cluster-arn", CLUSTER]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the policy is neither JSON nor YAML"),
        "{}",
        run.stderr
    );
}

#[test]
fn generate_explains_an_unlimited_policy_and_scopes_to_service_accounts() {
    let bare = pia(&["trust", "generate"]);
    assert_eq!(bare.code, 0);
    assert!(
        bare.stderr
            .contains("EKS may use the role for pods of any cluster, in any account"),
        "{}",
        bare.stderr
    );
    assert!(bare.stderr.contains("--cluster-arn"), "{}", bare.stderr);
    let scoped = pia(&[
        "trust",
        "generate",
        "--cluster-arn",
        CLUSTER,
        "--namespace",
        "payments",
        "--service-account",
        "api",
    ]);
    assert_eq!(scoped.code, 0, "{}", scoped.stderr);
    assert!(scoped.stderr.is_empty(), "{}", scoped.stderr);
    let policy: serde_json::Value = serde_json::from_str(&scoped.stdout).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"],
        serde_json::json!({"aws:SourceAccount": "111122223333", "aws:RequestTag/eks-cluster-name": "demo",
            "aws:RequestTag/kubernetes-namespace": "payments", "aws:RequestTag/kubernetes-service-account": "api"})
    );

    // The scoped policy admits its service account, refuses another, and meets DisableSessionTags.
    let policy_file = file("scoped.json", &scoped.stdout);
    let policy_file = policy_file.to_str().unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec![
            "trust",
            "check",
            policy_file,
            "--cluster-arn",
            CLUSTER,
            "--namespace",
            "payments",
        ];
        args.extend(extra);
        pia(&args)
    };
    assert_eq!(check(&["--service-account", "api"]).code, 0);
    let other = check(&["--service-account", "worker"]);
    assert_eq!(other.code, 1, "{}", other.stdout);
    let tags_off = check(&["--service-account", "api", "--disable-session-tags"]);
    assert_eq!(tags_off.code, 1, "{}", tags_off.stdout);
    assert!(
        tags_off
            .stdout
            .contains("but the association has DisableSessionTags: true: EKS then sets no session tags"),
        "{}",
        tags_off.stdout
    );
}
