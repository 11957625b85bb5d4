"""Stacks on the emulator with the AWS CLI (`aws cloudformation deploy`, v1) and boto3: the example template deploys,
a pod of its service account gets the stack's role, a RoleArn change updates in place and a Namespace change
replaces, nothing to change is "No changes to deploy", drift shows an out-of-band change, a failing resource rolls
back leaving nothing, and a delete removes everything."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from conftest import PIA
from test_kubeconfig import ADMIN_KEY, aws_cli, cli_env
from test_pod_identity import pod_sts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloudformation" / "pod-identity.yaml"
ROLE_PARAMETER_TEMPLATE = """
Parameters:
  RoleArn: {Type: String}
Resources:
  Association:
    Type: AWS::EKS::PodIdentityAssociation
    Properties: {ClusterName: demo, Namespace: jobs, ServiceAccount: runner, RoleArn: !Ref RoleArn}
Outputs:
  AssociationArn: {Value: !Ref Association}
"""


# A second account, the target of cross-account chaining, with its own administrator.
TARGET_ACCOUNT = "444455556666"
TARGET_KEY = ("AKIATARGETACCOUNT001", "TargetAccountSecretKey/0000000000000001")
CROSS_ACCOUNT_EXAMPLES = EXAMPLE.parent
TWO_ACCOUNTS = {
    "access_keys": [
        {"access_key_id": ADMIN_KEY[0], "secret_access_key": ADMIN_KEY[1], "user_name": "admin"},
        {"access_key_id": "AKIAEMULATORNODE0001", "secret_access_key": "EmulatorNodeSecretKey/000000000000000001",
         "user_name": "eks-pod-identity-agent"},
        {"access_key_id": TARGET_KEY[0], "secret_access_key": TARGET_KEY[1], "account_id": TARGET_ACCOUNT,
         "user_name": "admin"},
    ],
    "users": [
        {"user_name": "admin", "managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        {"user_name": "eks-pod-identity-agent",
         "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]},
        {"user_name": "admin", "account_id": TARGET_ACCOUNT,
         "managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
    ],
}


def start_world(*config_args):
    process = subprocess.Popen([PIA, "emulator", "--port", "0", "--pod", "payments/api/api-0", *config_args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}
    for line in process.stdout:
        if m := re.match(r"export AWS_ENDPOINT_URL=(\S+)", line):
            found["endpoint"] = m.group(1)
        if m := re.match(r"export PIA_POD_(AWS_CONTAINER_\w+)=(\S+)", line):
            found[m.group(1)] = m.group(2)
        if "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" in found:
            break
    return process, found


@pytest.fixture
def world():
    process, found = start_world()
    yield found
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def two_accounts(tmp_path):
    config = tmp_path / "two-accounts.json"
    config.write_text(json.dumps(TWO_ACCOUNTS))
    process, found = start_world("--config", str(config))
    yield found
    process.terminate()
    process.wait(timeout=10)


def admin(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1])


def aws(endpoint, tmp_path, *args, check=True):
    done = subprocess.run([aws_cli(), "--region", "us-east-1", "--endpoint-url", endpoint, *args],
                          env=cli_env(tmp_path), check=False, capture_output=True, text=True, timeout=300)
    assert not check or done.returncode == 0, f"{args}: {done.stdout} {done.stderr}"
    return done


def deploy(endpoint, tmp_path, template, stack, *parameters, check=True):
    # The AWS CLI names its change sets by the second, and CloudFormation keeps the last one: deploys of a stack
    # within one second would ask for the same name.
    time.sleep(1)
    return aws(endpoint, tmp_path, "cloudformation", "deploy", "--template-file", str(template), "--stack-name", stack,
               "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset", "--parameter-overrides",
               *parameters, check=check)


def outputs(cloudformation, stack):
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return described["StackStatus"], {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_the_example_deploys_gives_the_pod_its_role_and_deletes(world, monkeypatch, tmp_path):
    endpoint = world["endpoint"]
    cloudformation, eks, iam = admin("cloudformation", endpoint), admin("eks", endpoint), admin("iam", endpoint)
    deploy(endpoint, tmp_path, EXAMPLE, "payments", "ClusterName=demo", "Namespace=payments", "ServiceAccount=api")
    status, out = outputs(cloudformation, "payments")
    assert status == "CREATE_COMPLETE"
    role_name = out["RoleArn"].rsplit("/", 1)[1]
    assert role_name.startswith("payments-PodRole-")

    # The pod of the service account gets the stack's role, through the agent and EKS Auth.
    _session, sts = pod_sts(world, monkeypatch)
    identity = sts.get_caller_identity()
    assert identity["Arn"].startswith(f"arn:aws:sts::111122223333:assumed-role/{role_name}/eks-demo-api-0-")
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        monkeypatch.delenv(name)

    # Deploying again without a change is not an error.
    again = deploy(endpoint, tmp_path, EXAMPLE, "payments", "ClusterName=demo", "Namespace=payments",
                   "ServiceAccount=api")
    assert "No changes to deploy" in again.stdout

    # An out-of-band change shows as drift, with the property that differs.
    eks.update_pod_identity_association(clusterName="demo", associationId=out["AssociationId"],
                                        roleArn="arn:aws:iam::111122223333:role/demo-pod-role")
    detection = cloudformation.detect_stack_drift(StackName="payments")["StackDriftDetectionId"]
    while True:
        drift = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if drift["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
    assert drift["StackDriftStatus"] == "DRIFTED"
    drifts = cloudformation.describe_stack_resource_drifts(StackName="payments")["StackResourceDrifts"]
    [association] = [d for d in drifts if d["LogicalResourceId"] == "Association"]
    assert association["StackResourceDriftStatus"] == "MODIFIED"
    assert [d["PropertyPath"] for d in association["PropertyDifferences"]] == ["/RoleArn"]

    # A Namespace change replaces the association: a new ARN, the old one gone.
    deploy(endpoint, tmp_path, EXAMPLE, "payments", "Namespace=billing")
    status, replaced = outputs(cloudformation, "payments")
    assert status == "UPDATE_COMPLETE"
    assert replaced["AssociationArn"] != out["AssociationArn"]
    held = eks.list_pod_identity_associations(clusterName="demo")["associations"]
    assert [(a["namespace"], a["associationArn"]) for a in held] == [("billing", replaced["AssociationArn"])]

    aws(endpoint, tmp_path, "cloudformation", "delete-stack", "--stack-name", "payments")
    aws(endpoint, tmp_path, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "payments")
    assert eks.list_pod_identity_associations(clusterName="demo")["associations"] == []
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"] == role_name]


def test_a_role_arn_change_updates_the_association_in_place(world, tmp_path):
    endpoint = world["endpoint"]
    template = tmp_path / "role.yaml"
    template.write_text(ROLE_PARAMETER_TEMPLATE)
    cloudformation = admin("cloudformation", endpoint)
    deploy(endpoint, tmp_path, template, "jobs", "RoleArn=arn:aws:iam::111122223333:role/demo-pod-role")
    _, created = outputs(cloudformation, "jobs")
    deploy(endpoint, tmp_path, template, "jobs", "RoleArn=arn:aws:iam::111122223333:role/demo-pod-role-2")
    status, updated = outputs(cloudformation, "jobs")
    assert status == "UPDATE_COMPLETE"
    assert updated["AssociationArn"] == created["AssociationArn"]
    [held] = admin("eks", endpoint).list_pod_identity_associations(clusterName="demo")["associations"]
    described = admin("eks", endpoint).describe_pod_identity_association(
        clusterName="demo", associationId=held["associationId"])["association"]
    assert described["roleArn"] == "arn:aws:iam::111122223333:role/demo-pod-role-2"


def test_a_failing_resource_rolls_back_leaving_nothing(world, tmp_path):
    endpoint = world["endpoint"]
    failed = deploy(endpoint, tmp_path, EXAMPLE, "broken", "ClusterName=no-such-cluster", "ServiceAccount=api",
                    check=False)
    assert failed.returncode != 0
    cloudformation = admin("cloudformation", endpoint)
    status, _ = outputs(cloudformation, "broken")
    assert status == "ROLLBACK_COMPLETE"
    events = cloudformation.describe_stack_events(StackName="broken")["StackEvents"]
    [failure] = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failure["LogicalResourceId"] == "Association"
    assert "No cluster found for name: no-such-cluster" in failure["ResourceStatusReason"]
    roles = admin("iam", endpoint).list_roles()["Roles"]
    assert not [r for r in roles if r["RoleName"].startswith("broken-")]


def test_the_cross_account_examples_deploy_and_the_pod_gets_the_target_role(two_accounts, monkeypatch, tmp_path):
    """pod-identity-cross-account.yaml in the cluster's account (the AWS CLI), target-role.yaml in the other one
    (`pia stack deploy`, with that account's key): the pod ends up with the target role's credentials."""
    endpoint = two_accounts["endpoint"]
    cluster_side = CROSS_ACCOUNT_EXAMPLES / "pod-identity-cross-account.yaml"
    # The target role's name is CloudFormation's to choose: the association starts with a placeholder target.
    placeholder = f"arn:aws:iam::{TARGET_ACCOUNT}:role/not-made-yet"
    deploy(endpoint, tmp_path, cluster_side, "chained", "ClusterName=demo", "Namespace=payments",
           "ServiceAccount=api", f"TargetRoleArn={placeholder}")
    status, cluster_outputs = outputs(admin("cloudformation", endpoint), "chained")
    assert status == "CREATE_COMPLETE"

    target_env = {**cli_env(tmp_path), "AWS_ACCESS_KEY_ID": TARGET_KEY[0], "AWS_SECRET_ACCESS_KEY": TARGET_KEY[1],
                  "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"}
    done = subprocess.run([PIA, "stack", "deploy", str(CROSS_ACCOUNT_EXAMPLES / "target-role.yaml"),
                           "--stack-name", "target", "--capabilities", "CAPABILITY_IAM",
                           "--parameter", f"SourceRoleArn={cluster_outputs['RoleArn']}",
                           "--parameter", f"ExternalId={cluster_outputs['ExternalId']}", "--output", "json"],
                          env=target_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    target = json.loads(done.stdout)
    assert target["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:{TARGET_ACCOUNT}:stack/target/")
    target_role = target["Outputs"]["TargetRoleArn"]
    assert target_role.startswith(f"arn:aws:iam::{TARGET_ACCOUNT}:role/target-TargetRole-")

    # The real target: an update in place, the same association and ExternalId.
    deploy(endpoint, tmp_path, cluster_side, "chained", f"TargetRoleArn={target_role}")
    status, updated = outputs(admin("cloudformation", endpoint), "chained")
    assert status == "UPDATE_COMPLETE"
    assert (updated["AssociationArn"], updated["ExternalId"]) == (cluster_outputs["AssociationArn"],
                                                                  cluster_outputs["ExternalId"])

    _session, sts = pod_sts(two_accounts, monkeypatch)
    identity = sts.get_caller_identity()
    target_name = target_role.rsplit("/", 1)[1]
    assert identity["Account"] == TARGET_ACCOUNT
    assert identity["Arn"].startswith(f"arn:aws:sts::{TARGET_ACCOUNT}:assumed-role/{target_name}/"), identity
