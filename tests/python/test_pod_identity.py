"""The whole pod identity flow with boto3 only: an association made through the EKS API, then an SDK that knows
nothing but the webhook's two variables gets the role's credentials from the agent."""
import re
import subprocess

import boto3
import botocore.exceptions
import pytest
from botocore.exceptions import ClientError

from conftest import PIA

ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
ROLE = "arn:aws:iam::111122223333:role/demo-pod-role"


@pytest.fixture
def world():
    process = subprocess.Popen([PIA, "emulator", "--port", "0", "--pod", "payments/api/api-0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}
    for line in process.stdout:
        if m := re.match(r"export AWS_ENDPOINT_URL=(\S+)", line):
            found["endpoint"] = m.group(1)
        if m := re.match(r"export PIA_POD_(AWS_CONTAINER_\w+)=(\S+)", line):
            found[m.group(1)] = m.group(2)
        if "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" in found:
            break
    yield found
    process.terminate()
    process.wait(timeout=10)


def admin(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1])


def pod_sts(world, monkeypatch):
    """An STS client whose credentials come only from the container provider, as in the pod."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", world["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", world["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
    session = boto3.Session(region_name="us-east-1")
    return session, session.client("sts", endpoint_url=world["endpoint"])


def test_a_pod_gets_the_associated_role_with_its_session_tags(world, monkeypatch):
    eks = admin("eks", world["endpoint"])
    association = eks.create_pod_identity_association(
        clusterName="demo", namespace="payments", serviceAccount="api", roleArn=ROLE)["association"]
    session, sts = pod_sts(world, monkeypatch)
    assert session.get_credentials().method == "container-role"
    identity = sts.get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-api-0-")
    assert identity["Account"] == "111122223333"

    # Deleting the association takes the pod's access away for new tokens' fetches.
    eks.delete_pod_identity_association(clusterName="demo", associationId=association["associationId"])


def test_without_an_association_the_pod_gets_no_credentials(world, monkeypatch):
    with pytest.raises(botocore.exceptions.CredentialRetrievalError) as refused:
        _session, sts = pod_sts(world, monkeypatch)
        sts.get_caller_identity()
    assert "No Pod Identity Association found for service account api in namespace payments" in str(refused.value)


def test_unsigned_and_wrongly_signed_requests_are_refused(world):
    wrong = boto3.client("eks", endpoint_url=world["endpoint"], region_name="us-east-1",
                         aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as refused:
        wrong.list_pod_identity_associations(clusterName="demo")
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    unknown = boto3.client("sts", endpoint_url=world["endpoint"], region_name="us-east-1",
                           aws_access_key_id="AKIAUNKNOWN000000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as refused:
        unknown.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
