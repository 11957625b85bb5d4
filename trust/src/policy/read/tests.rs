use super::*;
use serde_json::json;

fn parse(value: Value) -> Result<PolicyDocument, PolicyError> {
    PolicyDocument::from_value(&value)
}

fn malformed(value: Value) -> String {
    match parse(value) {
        Err(error @ PolicyError::Malformed { .. }) => error.to_string(),
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn reads_every_legal_shape() {
    let document = parse(json!({
        "Version": "2012-10-17",
        "Id": "trust",
        "Statement": [
            {"Sid": "Pods", "Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com"], "AWS": "111122223333"},
             "Action": ["sts:AssumeRole", "sts:TagSession"],
             "Condition": {"StringEquals": {"aws:SourceAccount": ["111122223333"]}, "Bool": {"aws:SecureTransport": true},
                           "NumericLessThan": {"sts:DurationSeconds": 3600}, "ForAllValues:StringLikeIfExists": {"aws:TagKeys": "eks-*"}}},
            {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "sts:AssumeRole", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "*", "NotResource": ["arn:aws:iam::*:role/x"]}
        ]
    }))
    .unwrap();
    assert_eq!(document.version, Some(PolicyVersion::V2012_10_17));
    assert_eq!(document.id.as_deref(), Some("trust"));
    assert_eq!(document.statements.len(), 3);
    let first = &document.statements[0];
    assert_eq!(first.sid.as_deref(), Some("Pods"));
    let Some(PrincipalElement {
        negated: false,
        principals: Principals::Typed(types),
    }) = &first.principal
    else {
        panic!("{:?}", first.principal)
    };
    assert_eq!(types.len(), 2);
    assert!(
        types
            .iter()
            .any(|(kind, values)| *kind == PrincipalType::Service && !values.single)
    );
    assert_eq!(first.conditions.len(), 4);
    let set = first
        .conditions
        .iter()
        .find(|b| b.operator.qualifier.is_some())
        .unwrap();
    assert_eq!(set.operator.to_string(), "ForAllValues:StringLikeIfExists");
    assert!(set.operator.if_exists);
    assert!(first.tests_key("AWS:SOURCEACCOUNT"));
    let second = &document.statements[1];
    assert!(second.action.negated && second.principal.as_ref().unwrap().negated);
    assert_eq!(second.principal.as_ref().unwrap().principals, Principals::Everyone);
    assert!(document.statements[2].resource.as_ref().unwrap().negated);
}

#[test]
fn a_single_statement_object_and_no_version_are_legal() {
    let document =
        parse(json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}}))
            .unwrap();
    assert_eq!(document.version, None);
    assert_eq!(document.statements.len(), 1);
    assert!(document.statements[0].action.actions.single);
}

#[test]
fn unknown_elements_are_kept_for_the_checker() {
    let document = parse(json!({"Version": "2012-10-17", "Comment": "x",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Note": 1}]}))
    .unwrap();
    assert_eq!(document.unknown_elements, ["Comment"]);
    assert_eq!(document.statements[0].unknown_elements, ["Note"]);
}

#[test]
fn shape_errors_name_the_element() {
    let ok = json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"});
    let with = |key: &str, value: Value| {
        let mut statement = ok.clone();
        statement[key] = value;
        json!({"Version": "2012-10-17", "Statement": [statement]})
    };
    let cases = [
        (json!([]), "policy: expected a JSON object, found an array"),
        (json!({"Version": "2012-10-17"}), "Statement element is missing"),
        (json!({"Statement": []}), "Statement: the array is empty"),
        (json!({"Statement": "x"}), "Statement: expected an object or an array"),
        (
            json!({"Statement": [1]}),
            "Statement[0]: expected an object, found a number",
        ),
        (
            json!({"Version": "2020-01-01", "Statement": [ok.clone()]}),
            "Version: \"2020-01-01\" is not a policy language version",
        ),
        (
            json!({"Version": 2012, "Statement": [ok.clone()]}),
            "Version: expected a string",
        ),
        (
            with("Effect", json!("allow")),
            "Statement[0].Effect: expected \"Allow\" or \"Deny\"",
        ),
        (
            json!({"Statement": [{"Principal": "*", "Action": "a:b"}]}),
            "Effect element is missing",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Principal": "*"}]}),
            "Action element is missing",
        ),
        (with("NotAction", json!("x:y")), "has both Action and NotAction"),
        (with("NotPrincipal", json!("*")), "has both Principal and NotPrincipal"),
        (with("Action", json!([])), "Statement[0].Action: the array is empty"),
        (
            with("Action", json!(["sts:AssumeRole", 7])),
            "Statement[0].Action[1]: expected a string, found a number",
        ),
        (
            with("Action", json!({"a": 1})),
            "expected a string or an array of strings, found an object",
        ),
        (with("Principal", json!("pods.eks.amazonaws.com")), "is not a principal"),
        (
            with("Principal", json!({})),
            "Statement[0].Principal: the object is empty",
        ),
        (
            with("Principal", json!({"Services": "x"})),
            "unknown principal type \"Services\"",
        ),
        (
            with("Principal", json!({"Service": null})),
            "Statement[0].Principal.Service: expected a string or an array",
        ),
        (with("Principal", json!(true)), "expected \"*\" or an object"),
        (
            with("Condition", json!([])),
            "Statement[0].Condition: expected an object",
        ),
        (
            with("Condition", json!({"StringEqualz": {"a": "b"}})),
            "unknown condition operator \"StringEqualz\"",
        ),
        (
            with("Condition", json!({"ForSomeValues:StringEquals": {"a": "b"}})),
            "unknown condition operator",
        ),
        (
            with("Condition", json!({"NullIfExists": {"a": "true"}})),
            "takes no IfExists",
        ),
        (
            with("Condition", json!({"StringEquals": "x"})),
            "Statement[0].Condition.StringEquals: expected an object",
        ),
        (
            with("Condition", json!({"StringEquals": {}})),
            "give at least one condition key",
        ),
        (
            with("Condition", json!({"StringEquals": {"k": null}})),
            "Statement[0].Condition.StringEquals.k: expected a string, boolean or number",
        ),
        (
            with("Condition", json!({"StringEquals": {"k": [{"a": 1}]}})),
            "StringEquals.k[0]: expected a string",
        ),
        (
            with("Condition", json!({"StringEquals": {"k": []}})),
            "StringEquals.k: the array is empty",
        ),
        (with("Sid", json!(5)), "Statement[0].Sid: expected a string"),
        (json!({"Id": [], "Statement": [ok.clone()]}), "Id: expected a string"),
    ];
    for (input, expected) in cases {
        let message = malformed(input.clone());
        assert!(
            message.contains(expected),
            "{input}\n  got: {message}\n  want: {expected}"
        );
    }
}

#[test]
fn invalid_json_reports_where() {
    let error = PolicyDocument::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}").unwrap_err();
    let PolicyError::Json { line, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*line, 4);
    assert!(
        error.to_string().starts_with("the policy is not valid JSON (line 4"),
        "{error}"
    );
    assert!(matches!(PolicyDocument::parse(""), Err(PolicyError::Json { .. })));
}

/// A deterministic stream of mangled documents: the parser must answer each with Ok or Err, never panic.
#[test]
fn mangled_inputs_never_panic() {
    let seed = r#"{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com","AWS":["1"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},"ForAnyValue:ArnLikeIfExists":{"aws:SourceArn":["arn:*",true,1.5]}}}]}"#;
    let bytes = seed.as_bytes();
    let replacements: &[&[u8]] = &[
        b"",
        b"[",
        b"]",
        b"{",
        b"}",
        b"\"",
        b",",
        b":",
        b"null",
        b"1e999",
        b"-",
        b"\\u0000",
        "é".as_bytes(),
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..4000 {
        let mut mangled = bytes.to_vec();
        for _ in 0..=(next() % 3) {
            let at = (next() as usize) % mangled.len().max(1);
            let end = (at + (next() as usize % 4)).min(mangled.len());
            let with = replacements[(next() as usize) % replacements.len()];
            mangled.splice(at..end, with.iter().copied());
        }
        let text = String::from_utf8_lossy(&mangled);
        if let Ok(mut document) = PolicyDocument::parse(&text) {
            // Whatever parsed must write back to something that parses to the same document. Unknown
            // elements are not written (IAM would refuse them), so they are left out of the comparison.
            document.unknown_elements.clear();
            document
                .statements
                .iter_mut()
                .for_each(|statement| statement.unknown_elements.clear());
            assert_eq!(
                PolicyDocument::parse(&document.to_pretty_json()).unwrap(),
                document,
                "{text}"
            );
        }
    }
    // Structurally odd but valid JSON values.
    for value in [
        json!(null),
        json!(1),
        json!("x"),
        json!({"Statement": [[]]}),
        json!({"Statement": [{"Effect": ["Allow"]}]}),
    ] {
        assert!(parse(value).is_err());
    }
}
