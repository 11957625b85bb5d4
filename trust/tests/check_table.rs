//! A table of trust policies and what the checker must say about them: the verdict, the kinds of finding, and
//! key words of the explanation a person reads.

use pia_trust::check::FindingKind;
use pia_trust::{
    CheckError, CheckInput, ClusterArn, PolicyDocument, PolicyError, RoleArn, TargetRoleInput, check_trust,
};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const TARGET: &str = "arn:aws:iam::444455556666:role/data";
const ALL_TAG_KEYS: [&str; 6] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
];

fn pods_statement(action: Value, condition: Value) -> Value {
    json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": action, "Condition": condition})
}

fn seed_condition() -> Value {
    json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": CLUSTER}})
}

fn both_actions() -> Value {
    json!(["sts:AssumeRole", "sts:TagSession"])
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn seed() -> Value {
    policy(vec![pods_statement(both_actions(), seed_condition())])
}

#[derive(Default, Clone)]
struct Options {
    disable_session_tags: bool,
    namespace: Option<&'static str>,
    role_arn: Option<&'static str>,
}

struct Case {
    name: &'static str,
    policy: Value,
    options: Options,
    will_work: bool,
    /// Finding kinds (kebab-case, as in the JSON report) that must be present.
    kinds: &'static [&'static str],
    /// Finding kinds that must not be present.
    absent: &'static [&'static str],
    /// Words the human rendering must contain.
    words: &'static [&'static str],
}

fn input(options: &Options) -> CheckInput {
    let mut input = CheckInput::new(CLUSTER.parse().unwrap());
    input.disable_session_tags = options.disable_session_tags;
    input.namespace = options.namespace.map(str::to_owned);
    input.service_account = Some("app".to_owned());
    input.role_arn = options.role_arn.map(|arn| arn.parse().unwrap());
    input
}

fn tags_off() -> Options {
    Options {
        disable_session_tags: true,
        ..Options::default()
    }
}

fn cases() -> Vec<Case> {
    let ok = |name, policy, kinds, words| Case {
        name,
        policy,
        options: Options::default(),
        will_work: true,
        kinds,
        absent: &[],
        words,
    };
    let broken = |name, policy, kinds, words| Case {
        name,
        policy,
        options: Options::default(),
        will_work: false,
        kinds,
        absent: &[],
        words,
    };
    vec![
        Case {
            name: "IfExists session tag conditions with DisableSessionTags limit nothing",
            options: tags_off(),
            ..ok(
                "namespace scope IfExists, tags off",
                policy(vec![pods_statement(
                    json!("sts:AssumeRole"),
                    json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}, "StringEqualsIfExists": {"aws:RequestTag/kubernetes-namespace": "payments"}}),
                )]),
                &["session-tags-disabled"],
                &["does not limit who uses the role"],
            )
        },
        Case {
            name: "the seed's policy with this cluster's values",
            absent: &["no-source-conditions", "no-source-arn-condition", "explicit-deny"],
            ..ok(
                "seed",
                seed(),
                &[],
                &[
                    "Pods will get credentials",
                    "role sts:AssumeRole: Allow",
                    "role sts:TagSession: Allow",
                ],
            )
        },
        ok(
            "the seed's policy without conditions",
            policy(vec![pods_statement(both_actions(), json!({}))]),
            &["no-source-conditions"],
            &["confused deputy", "\"aws:SourceAccount\": \"111122223333\"", CLUSTER],
        ),
        broken(
            "missing sts:TagSession while EKS tags sessions",
            policy(vec![pods_statement(json!("sts:AssumeRole"), seed_condition())]),
            &["missing-tag-session"],
            &[
                "The policy does not allow sts:TagSession, but EKS tags every session unless DisableSessionTags is true",
                "Add \"sts:TagSession\" to the Action list of statement 1 (the statement that trusts pods.eks.amazonaws.com)",
                "or set DisableSessionTags: true",
                "Pods will NOT get credentials: 1 problem to fix",
            ],
        ),
        Case {
            options: tags_off(),
            absent: &["missing-tag-session"],
            ..ok(
                "missing sts:TagSession with DisableSessionTags",
                policy(vec![pods_statement(json!(["sts:AssumeRole"]), seed_condition())]),
                &[],
                &["session tags off"],
            )
        },
        broken(
            "missing sts:AssumeRole",
            policy(vec![pods_statement(json!("sts:TagSession"), seed_condition())]),
            &["missing-assume-role"],
            &[
                "does not allow sts:AssumeRole",
                "Add \"sts:AssumeRole\" to the Action list of statement 1",
            ],
        ),
        broken(
            "the wrong service principal",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": both_actions()}),
            ]),
            &["principal-not-trusted"],
            &[
                "No Allow statement trusts the service principal pods.eks.amazonaws.com",
                "the policy trusts Service eks.amazonaws.com",
                "\"Principal\": {\"Service\": \"pods.eks.amazonaws.com\"}",
                "pia trust generate --cluster-arn",
            ],
        ),
        broken(
            "an IRSA trust policy",
            policy(vec![json!({"Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
                "Action": "sts:AssumeRoleWithWebIdentity"})]),
            &["principal-not-trusted"],
            &["IRSA", "OIDC provider"],
        ),
        ok(
            "the principal in an array with another service",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "pods.eks.amazonaws.com"]},
                "Action": both_actions(), "Condition": seed_condition()}),
            ]),
            &[],
            &["Pods will get credentials"],
        ),
        broken(
            "a Deny overriding the Allow",
            policy(vec![
                pods_statement(both_actions(), seed_condition()),
                json!({"Sid": "NoTagging", "Effect": "Deny", "Principal": "*", "Action": "sts:TagSession"}),
            ]),
            &["explicit-deny"],
            &[
                "Statement 2 (Sid \"NoTagging\") denies sts:TagSession",
                "explicit Deny overrides every Allow",
                "Remove statement 2",
            ],
        ),
        ok(
            "a Deny that does not match EKS's request",
            policy(vec![
                pods_statement(both_actions(), seed_condition()),
                json!({"Effect": "Deny", "Principal": "*", "Action": "sts:*",
                       "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}}),
            ]),
            &[],
            &["Pods will get credentials"],
        ),
        ok(
            "NotAction that spares the actions EKS uses",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "NotAction": "sts:AssumeRoleWithWebIdentity", "Condition": seed_condition()}),
            ]),
            &[],
            &["Pods will get credentials"],
        ),
        broken(
            "NotAction that excludes sts:TagSession",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "NotAction": ["sts:TagSession"], "Condition": seed_condition()}),
            ]),
            &["missing-tag-session"],
            &["Remove \"sts:TagSession\" from the NotAction list of statement 1"],
        ),
        ok(
            "the wildcard sts:*",
            policy(vec![pods_statement(json!("sts:*"), seed_condition())]),
            &[],
            &["Pods will get credentials"],
        ),
        broken(
            "the wildcard sts:Assume* covers AssumeRole only",
            policy(vec![pods_statement(json!("sts:Assume*"), seed_condition())]),
            &["missing-tag-session"],
            &["role sts:AssumeRole: Allow", "role sts:TagSession: ImplicitDeny"],
        ),
        ok(
            "action names in any case",
            policy(vec![pods_statement(
                json!(["STS:assumerole", "sts:tagsession"]),
                seed_condition(),
            )]),
            &[],
            &[],
        ),
        broken(
            "aws:SourceAccount of another account",
            policy(vec![pods_statement(
                both_actions(),
                json!({"StringEquals": {"aws:SourceAccount": "444455556666"}}),
            )]),
            &["source-account-mismatch"],
            &[
                "\"444455556666\"",
                "EKS sends the cluster's account 111122223333",
                "Set aws:SourceAccount to \"111122223333\"",
            ],
        ),
        broken(
            "aws:SourceArn of another cluster",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ArnEquals": {"aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/other"}}),
            )]),
            &["source-arn-mismatch"],
            &[
                "cluster/other",
                "Set aws:SourceArn to \"arn:aws:eks:us-east-1:111122223333:cluster/demo\"",
                "ArnLike",
            ],
        ),
        Case {
            name: "aws:SourceAccount only",
            absent: &["no-source-conditions"],
            ..ok(
                "",
                policy(vec![pods_statement(
                    both_actions(),
                    json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                )]),
                &["no-source-arn-condition"],
                &["not to one cluster"],
            )
        },
        ok(
            "ArnLike with wildcards admitting the cluster",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:eks:*:111122223333:cluster/*"}}),
            )]),
            &[],
            &["Pods will get credentials"],
        ),
        broken(
            "ArnLike with wildcards for another account",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:eks:*:999988887777:cluster/*"}}),
            )]),
            &["source-arn-mismatch"],
            &["999988887777"],
        ),
        ok(
            "several statements, one of which matches",
            policy(vec![
                pods_statement(
                    both_actions(),
                    json!({"StringEquals": {"aws:SourceAccount": "444455556666"}}),
                ),
                pods_statement(both_actions(), seed_condition()),
            ]),
            &[],
            &["statement 2 allows sts:AssumeRole"],
        ),
        Case {
            options: Options {
                namespace: Some("prod"),
                ..Options::default()
            },
            ..ok(
                "IfExists on a session tag that matches",
                policy(vec![pods_statement(
                    both_actions(),
                    json!({"StringEqualsIfExists": {"aws:RequestTag/kubernetes-namespace": "prod"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                )]),
                &[],
                &[],
            )
        },
        Case {
            options: Options {
                namespace: Some("dev"),
                ..Options::default()
            },
            ..broken(
                "IfExists on a session tag that does not match",
                policy(vec![pods_statement(
                    both_actions(),
                    json!({"StringEqualsIfExists": {"aws:RequestTag/kubernetes-namespace": "prod"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                )]),
                &["condition-not-met"],
                &[
                    "StringEqualsIfExists requires aws:RequestTag/kubernetes-namespace to match \"prod\", and the request has \"dev\"",
                ],
            )
        },
        Case {
            options: tags_off(),
            ..ok(
                "IfExists on a session tag when tags are off",
                policy(vec![pods_statement(
                    json!("sts:AssumeRole"),
                    json!({"StringEqualsIfExists": {"aws:RequestTag/kubernetes-namespace": "prod"}}),
                )]),
                &[],
                &[],
            )
        },
        Case {
            options: tags_off(),
            ..broken(
                "a session tag condition without IfExists when tags are off",
                policy(vec![pods_statement(
                    json!("sts:AssumeRole"),
                    json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "prod"}}),
                )]),
                &["session-tags-disabled"],
                &[
                    "tests aws:RequestTag/kubernetes-namespace, but the association has DisableSessionTags: true",
                    "never holds",
                    "Set DisableSessionTags: false",
                ],
            )
        },
        broken(
            "a namespace condition with the namespace unknown",
            policy(vec![pods_statement(
                both_actions(),
                json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "prod"}}),
            )]),
            &["condition-not-met", "placeholder-value"],
            &["\"<namespace>\"", "depends on the pod or association"],
        ),
        ok(
            "ForAllValues on aws:TagKeys listing the six tags",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ALL_TAG_KEYS}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
            )]),
            &[],
            &[],
        ),
        broken(
            "ForAllValues on aws:TagKeys missing some tags",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["eks-cluster-arn", "eks-cluster-name"]}}),
            )]),
            &["condition-not-met"],
            &["requires every value of aws:TagKeys to match"],
        ),
        ok(
            "ForAnyValue on aws:TagKeys with a pattern",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ForAnyValue:StringLike": {"aws:TagKeys": "kubernetes-*"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
            )]),
            &[],
            &[],
        ),
        broken(
            "ForAnyValue on aws:TagKeys matching nothing",
            policy(vec![pods_statement(
                both_actions(),
                json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}),
            )]),
            &["condition-not-met"],
            &["requires some value of aws:TagKeys to match \"team\""],
        ),
        Case {
            options: tags_off(),
            ..broken(
                "ForAnyValue on aws:TagKeys when no tags are sent",
                policy(vec![pods_statement(
                    json!("sts:AssumeRole"),
                    json!({"ForAnyValue:StringLike": {"aws:TagKeys": "*"}}),
                )]),
                &["session-tags-disabled"],
                &["the request has no aws:TagKeys", "tests aws:TagKeys"],
            )
        },
        Case {
            options: tags_off(),
            ..ok(
                "ForAllValues on aws:TagKeys when no tags are sent",
                policy(vec![pods_statement(
                    json!("sts:AssumeRole"),
                    json!({"ForAllValues:StringEquals": {"aws:TagKeys": "team"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                )]),
                &[],
                &[],
            )
        },
        ok(
            "Null requiring aws:SourceArn to be present",
            policy(vec![pods_statement(
                both_actions(),
                json!({"Null": {"aws:SourceArn": "false"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
            )]),
            &[],
            &[],
        ),
        broken(
            "Null requiring aws:SourceArn to be absent",
            policy(vec![pods_statement(
                both_actions(),
                json!({"Null": {"aws:SourceArn": true}}),
            )]),
            &["source-arn-mismatch"],
            &["Null requires aws:SourceArn to be absent"],
        ),
        broken(
            "a condition on a key EKS does not send",
            policy(vec![pods_statement(
                both_actions(),
                json!({"StringEquals": {"aws:PrincipalOrgID": "o-123"}}),
            )]),
            &["condition-not-met"],
            &["EKS does not send aws:PrincipalOrgID", "StringEqualsIfExists"],
        ),
        Case {
            absent: &["no-source-conditions"],
            ..ok(
                "Principal \"*\" with conditions",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": "*", "Action": both_actions(), "Condition": seed_condition()}),
                ]),
                &["trusts-everyone"],
                &["trusts every principal"],
            )
        },
        broken(
            "an operator the checker cannot evaluate",
            policy(vec![pods_statement(
                both_actions(),
                json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            )]),
            &["unsupported-condition"],
            &["cannot be evaluated", "Pods will NOT get credentials"],
        ),
        broken(
            "a Resource element",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": both_actions(),
                "Resource": "*", "Condition": seed_condition()}),
            ]),
            &["prohibited-element"],
            &["IAM refuses it in a role trust policy", "Remove the Resource element"],
        ),
        broken(
            "a statement without Principal",
            policy(vec![
                json!({"Effect": "Allow", "Action": both_actions()}),
                pods_statement(both_actions(), seed_condition()),
            ]),
            &["missing-principal"],
            &["Statement 1 has no Principal"],
        ),
        broken(
            "an element IAM does not define",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": both_actions(), "Condition": seed_condition(), "Comment": "x"}]}),
            &["unknown-element"],
            &["(Comment)", "MalformedPolicyDocument"],
        ),
        Case {
            options: Options {
                role_arn: Some("arn:aws:iam::444455556666:role/app"),
                ..Options::default()
            },
            ..broken(
                "a role of another account",
                seed(),
                &["role-account-mismatch"],
                &[
                    "is in account 444455556666, but the cluster is in account 111122223333",
                    "TargetRoleArn",
                ],
            )
        },
    ]
}

fn kinds_of(report: &pia_trust::TrustReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| serde_json::to_value(f.kind).unwrap().as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn trust_policy_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let document = PolicyDocument::from_value(&case.policy).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let report = check_trust(&document, &input(&case.options)).unwrap();
        let rendered = report.to_string();
        let kinds = kinds_of(&report);
        let mut problems = Vec::new();
        if report.will_work != case.will_work {
            problems.push(format!("will_work is {}", report.will_work));
        }
        problems.extend(
            case.kinds
                .iter()
                .filter(|k| !kinds.iter().any(|have| have == *k))
                .map(|k| format!("no {k} finding")),
        );
        problems.extend(
            case.absent
                .iter()
                .filter(|k| kinds.iter().any(|have| have == *k))
                .map(|k| format!("unexpected {k} finding")),
        );
        problems.extend(
            case.words
                .iter()
                .filter(|w| !rendered.contains(*w))
                .map(|w| format!("missing words {w:?}")),
        );
        // Every refusal must come with at least one error or warning saying why.
        if !report.will_work && !report.findings.iter().any(|f| f.severity != pia_trust::Severity::Info) {
            problems.push("refused without an explanation".to_owned());
        }
        // A policy that works has no errors.
        if report.will_work && report.findings.iter().any(|f| f.severity == pia_trust::Severity::Error) {
            problems.push("works but has errors".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{rendered}", case.name, problems.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn findings_come_errors_first_and_the_json_report_is_complete() {
    let document =
        PolicyDocument::from_value(&policy(vec![pods_statement(json!("sts:AssumeRole"), json!({}))])).unwrap();
    let report = check_trust(&document, &input(&Options::default())).unwrap();
    let severities: Vec<_> = report.findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort();
    assert_eq!(severities, sorted);
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["will_work"], json!(false));
    assert_eq!(value["cluster_arn"], json!(CLUSTER));
    assert_eq!(value["findings"][0]["severity"], json!("error"));
    assert_eq!(value["findings"][0]["kind"], json!("missing-tag-session"));
    assert_eq!(value["findings"][0]["role"], json!("role"));
    assert!(value["findings"][0]["fix"].as_str().unwrap().contains("sts:TagSession"));
    assert_eq!(
        value["verdicts"][1],
        json!({
            "role": "role", "action": "sts:TagSession", "decision": "ImplicitDeny", "statement": null,
            "reason": "no statement allows sts:TagSession for service principal pods.eks.amazonaws.com (implicit deny); statement 1: its Action does not include sts:TagSession"
        })
    );
}

#[test]
fn both_actions_failing_for_one_reason_give_one_finding() {
    let document = PolicyDocument::from_value(&policy(vec![pods_statement(
        both_actions(),
        json!({"StringEquals": {"aws:SourceAccount": "444455556666"}}),
    )]))
    .unwrap();
    let report = check_trust(&document, &input(&Options::default())).unwrap();
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::SourceAccountMismatch)
            .count(),
        1
    );
    assert_eq!(report.verdicts.len(), 2);
}

// ---- target roles (TargetRoleArn, cross-account chaining) ----

fn target_statement(principal: &str, action: Value, condition: Value) -> Value {
    json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Condition": condition})
}

fn check_target(target_policy: Value, external_id: Option<&str>, options: Options) -> pia_trust::TrustReport {
    let mut input = input(&Options {
        role_arn: Some(ROLE),
        ..options
    });
    input.target = Some(TargetRoleInput {
        target_role_arn: TARGET.parse().unwrap(),
        trust_policy: Some(PolicyDocument::from_value(&target_policy).unwrap()),
        external_id: external_id.map(str::to_owned),
    });
    check_trust(&PolicyDocument::from_value(&seed()).unwrap(), &input).unwrap()
}

#[test]
fn target_role_table() {
    let good = || {
        policy(vec![target_statement(
            ROLE,
            both_actions(),
            json!({"StringEquals": {"sts:ExternalId": "ext-1"}}),
        )])
    };
    /// (name, target policy, ExternalId given, options, will work, finding kinds, words)
    type TargetCase = (
        &'static str,
        Value,
        Option<&'static str>,
        Options,
        bool,
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: Vec<TargetCase> = vec![
        (
            "generated policy, external id given",
            good(),
            Some("ext-1"),
            Options::default(),
            true,
            &["identity-policy-needed"],
            &["target role sts:AssumeRole: Allow", "target role sts:TagSession: Allow"],
        ),
        (
            "external id inferred",
            good(),
            None,
            Options::default(),
            true,
            &["assumed-external-id"],
            &["assumed the association's ExternalId is \"ext-1\""],
        ),
        (
            "external id differs",
            good(),
            Some("ext-2"),
            Options::default(),
            false,
            &["external-id-mismatch"],
            &["does not admit the association's ExternalId", "\"ext-2\""],
        ),
        (
            "target without sts:TagSession",
            policy(vec![target_statement(
                ROLE,
                json!("sts:AssumeRole"),
                json!({"StringEquals": {"sts:ExternalId": "ext-1"}}),
            )]),
            Some("ext-1"),
            Options::default(),
            false,
            &["missing-tag-session"],
            &[
                "transitive",
                "Add \"sts:TagSession\" to the Action list of statement 1 (the statement that trusts the association's role)",
            ],
        ),
        (
            "target without sts:TagSession, tags off",
            policy(vec![target_statement(
                ROLE,
                json!("sts:AssumeRole"),
                json!({"StringEquals": {"sts:ExternalId": "ext-1"}}),
            )]),
            Some("ext-1"),
            tags_off(),
            true,
            &[],
            &[],
        ),
        (
            "target trusting another role",
            policy(vec![target_statement(
                "arn:aws:iam::111122223333:role/other",
                both_actions(),
                json!({}),
            )]),
            Some("ext-1"),
            Options::default(),
            false,
            &["principal-not-trusted"],
            &[
                "No Allow statement trusts the association's role",
                "AWS arn:aws:iam::111122223333:role/other",
                "\"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:role/app\"}",
            ],
        ),
        (
            "target trusting the account root",
            policy(vec![target_statement(
                "arn:aws:iam::111122223333:root",
                both_actions(),
                json!({"StringEquals": {"sts:ExternalId": "ext-1"}}),
            )]),
            Some("ext-1"),
            Options::default(),
            true,
            &[],
            &[],
        ),
        (
            "target without an external id condition",
            policy(vec![target_statement(ROLE, both_actions(), json!({}))]),
            Some("ext-1"),
            Options::default(),
            true,
            &["no-external-id-condition"],
            &["\"sts:ExternalId\": \"<the association's ExternalId>\""],
        ),
        (
            "target requiring a principal tag EKS sets",
            policy(vec![target_statement(
                ROLE,
                both_actions(),
                json!({"StringEquals": {"sts:ExternalId": "ext-1", "aws:PrincipalTag/eks-cluster-name": "demo"}}),
            )]),
            Some("ext-1"),
            Options::default(),
            true,
            &[],
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (name, target_policy, external_id, options, will_work, kinds, words) in cases {
        let report = check_target(target_policy, external_id, options);
        let rendered = report.to_string();
        let have = kinds_of(&report);
        let mut problems = Vec::new();
        if report.will_work != will_work {
            problems.push(format!("will_work is {}", report.will_work));
        }
        problems.extend(
            kinds
                .iter()
                .filter(|k| !have.iter().any(|h| h == *k))
                .map(|k| format!("no {k} finding")),
        );
        problems.extend(
            words
                .iter()
                .filter(|w| !rendered.contains(*w))
                .map(|w| format!("missing words {w:?}")),
        );
        if !problems.is_empty() {
            failures.push(format!("{name}: {}\n{rendered}", problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_target_policy_needs_the_association_role() {
    let mut input = CheckInput::new(CLUSTER.parse::<ClusterArn>().unwrap());
    input.target = Some(TargetRoleInput {
        target_role_arn: TARGET.parse::<RoleArn>().unwrap(),
        trust_policy: Some(PolicyDocument::from_value(&seed()).unwrap()),
        external_id: None,
    });
    let document = PolicyDocument::from_value(&seed()).unwrap();
    assert_eq!(check_trust(&document, &input), Err(CheckError::MissingRoleArn));
    input.target.as_mut().unwrap().trust_policy = None;
    let report = check_trust(&document, &input).unwrap();
    assert!(report.will_work);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::TargetPolicyNotChecked)
    );
}

// ---- inputs that are not policies ----

#[test]
fn malformed_policies_are_input_errors_with_clear_messages() {
    let cases: &[(&str, &str)] = &[
        ("", "not valid JSON"),
        ("{", "not valid JSON (line 1"),
        ("{\"Version\": \"2012-10-17\", \"Statement\": [}", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ("{\"Version\": \"2012-10-17\"}", "Statement element is missing"),
        (
            r#"{"Statement": [{"Effect": "Permit", "Principal": "*", "Action": "sts:AssumeRole"}]}"#,
            "Statement[0].Effect",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "pods.eks.amazonaws.com", "Action": "sts:AssumeRole"}]}"#,
            "Statement[0].Principal",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"Service": 1}, "Action": "sts:AssumeRole"}]}"#,
            "Statement[0].Principal.Service",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": {"sts": "AssumeRole"}}]}"#,
            "Statement[0].Action",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringEquals": ["x"]}}]}"#,
            "Statement[0].Condition.StringEquals",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StrEquals": {"a": "b"}}}]}"#,
            "unknown condition operator \"StrEquals\"",
        ),
    ];
    for (text, expected) in cases {
        let error: PolicyError = PolicyDocument::parse(text).unwrap_err();
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
}
