"""Cloud Control with boto3's own `cloudcontrol` client against `pia emulator`: AWS::EKS::PodIdentityAssociation run
by this project's provider, and AWS::IAM::Role, through the same handlers a stack would run."""
import json

import boto3
import pytest
from botocore.exceptions import ClientError, WaiterError

ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
ROLE = "arn:aws:iam::111122223333:role/demo-pod-role"
ROLE_2 = "arn:aws:iam::111122223333:role/demo-pod-role-2"
TYPE = "AWS::EKS::PodIdentityAssociation"
POLL = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture
def cloudcontrol(emulator):
    return boto3.client("cloudcontrol", endpoint_url=emulator, region_name="us-east-1",
                        aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1])


def finished(client, event):
    """The request's final event, waited for with boto3's own waiter."""
    token = event["ProgressEvent"]["RequestToken"]
    try:
        client.get_waiter("resource_request_success").wait(RequestToken=token, WaiterConfig=POLL)
    except WaiterError:
        pass  # FAILED: the status says why.
    return client.get_resource_request_status(RequestToken=token)["ProgressEvent"]


def test_an_association_is_created_read_patched_listed_and_deleted(cloudcontrol):
    desired = {"ClusterName": "demo", "Namespace": "payments", "ServiceAccount": "api", "RoleArn": ROLE}
    started = cloudcontrol.create_resource(TypeName=TYPE, DesiredState=json.dumps(desired))
    assert started["ProgressEvent"]["OperationStatus"] == "IN_PROGRESS"
    assert started["ProgressEvent"]["Operation"] == "CREATE"
    created = finished(cloudcontrol, started)
    assert created["OperationStatus"] == "SUCCESS", created
    arn = created["Identifier"]
    assert arn.startswith("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-")
    assert json.loads(created["ResourceModel"])["AssociationArn"] == arn

    described = cloudcontrol.get_resource(TypeName=TYPE, Identifier=arn)["ResourceDescription"]
    assert described["Identifier"] == arn
    properties = json.loads(described["Properties"])
    assert (properties["ClusterName"], properties["Namespace"], properties["RoleArn"]) == ("demo", "payments", ROLE)

    patched = finished(cloudcontrol, cloudcontrol.update_resource(
        TypeName=TYPE, Identifier=arn,
        PatchDocument=json.dumps([{"op": "replace", "path": "/RoleArn", "value": ROLE_2}])))
    assert patched["OperationStatus"] == "SUCCESS", patched
    assert patched["Identifier"] == arn
    assert json.loads(cloudcontrol.get_resource(TypeName=TYPE, Identifier=arn)["ResourceDescription"]["Properties"])[
        "RoleArn"] == ROLE_2

    listed = cloudcontrol.list_resources(TypeName=TYPE, ResourceModel=json.dumps({"ClusterName": "demo"}))
    assert [d["Identifier"] for d in listed["ResourceDescriptions"]] == [arn]

    deleted = finished(cloudcontrol, cloudcontrol.delete_resource(TypeName=TYPE, Identifier=arn))
    assert deleted["OperationStatus"] == "SUCCESS", deleted
    with pytest.raises(ClientError) as missing:
        cloudcontrol.get_resource(TypeName=TYPE, Identifier=arn)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"

    requests = cloudcontrol.list_resource_requests(
        ResourceRequestStatusFilter={"Operations": ["CREATE", "UPDATE", "DELETE"], "OperationStatuses": ["SUCCESS"]})
    assert [r["Operation"] for r in requests["ResourceRequestStatusSummaries"]] == ["DELETE", "UPDATE", "CREATE"]


def test_a_patch_of_a_create_only_property_is_refused(cloudcontrol):
    desired = {"ClusterName": "demo", "Namespace": "web", "ServiceAccount": "api", "RoleArn": ROLE}
    created = finished(cloudcontrol, cloudcontrol.create_resource(TypeName=TYPE, DesiredState=json.dumps(desired)))
    with pytest.raises(ClientError) as refused:
        cloudcontrol.update_resource(TypeName=TYPE, Identifier=created["Identifier"], PatchDocument=json.dumps(
            [{"op": "replace", "path": "/Namespace", "value": "other"}]))
    assert refused.value.response["Error"]["Code"] == "NotUpdatableException"
    assert "/properties/Namespace" in refused.value.response["Error"]["Message"]


def test_a_create_in_an_unknown_cluster_fails_with_the_handlers_code(cloudcontrol):
    desired = {"ClusterName": "no-such-cluster", "Namespace": "payments", "ServiceAccount": "api", "RoleArn": ROLE}
    failed = finished(cloudcontrol, cloudcontrol.create_resource(TypeName=TYPE, DesiredState=json.dumps(desired)))
    assert failed["OperationStatus"] == "FAILED"
    # The handler's own code: a create naming a cluster that is not there is the caller's mistake.
    assert failed["ErrorCode"] == "InvalidRequest"
    assert "no-such-cluster" in failed["StatusMessage"]


def test_an_iam_role_is_created_read_and_deleted(cloudcontrol):
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
         "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    desired = {"RoleName": "cloudcontrol-made", "AssumeRolePolicyDocument": trust}
    created = finished(cloudcontrol, cloudcontrol.create_resource(
        TypeName="AWS::IAM::Role", DesiredState=json.dumps(desired)))
    assert created["OperationStatus"] == "SUCCESS", created
    assert created["Identifier"] == "cloudcontrol-made"
    properties = json.loads(cloudcontrol.get_resource(
        TypeName="AWS::IAM::Role", Identifier="cloudcontrol-made")["ResourceDescription"]["Properties"])
    assert properties["Arn"] == "arn:aws:iam::111122223333:role/cloudcontrol-made"
    iam = boto3.client("iam", endpoint_url=cloudcontrol.meta.endpoint_url, region_name="us-east-1",
                       aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1])
    assert iam.get_role(RoleName="cloudcontrol-made")["Role"]["Arn"] == properties["Arn"]

    deleted = finished(cloudcontrol, cloudcontrol.delete_resource(
        TypeName="AWS::IAM::Role", Identifier="cloudcontrol-made"))
    assert deleted["OperationStatus"] == "SUCCESS", deleted
    with pytest.raises(ClientError) as missing:
        cloudcontrol.get_resource(TypeName="AWS::IAM::Role", Identifier="cloudcontrol-made")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_unknown_types_and_request_tokens_are_named_as_botocore_models_them(cloudcontrol):
    with pytest.raises(cloudcontrol.exceptions.TypeNotFoundException):
        cloudcontrol.get_resource(TypeName="AWS::No::Such", Identifier="x")
    with pytest.raises(cloudcontrol.exceptions.RequestTokenNotFoundException):
        cloudcontrol.get_resource_request_status(RequestToken="0f8fad5b-d9cb-469f-a165-70867728950e")
