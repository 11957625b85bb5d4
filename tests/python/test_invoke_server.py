"""boto3's Lambda client invokes the handlers through `pia serve`, as `cfn test` does."""
import json
import uuid

import boto3

# The emulator's built-in administrator key (pia emulator prints it).
ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def lambda_client(url):
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY[0],
        aws_secret_access_key=ADMIN_KEY[1],
    )


def handler_request(action, properties):
    return {
        "action": action,
        "awsAccountId": "111122223333",
        "bearerToken": str(uuid.uuid4()),
        "region": "us-east-1",
        "resourceType": "AWS::EKS::PodIdentityAssociation",
        "requestData": {
            "callerCredentials": {"accessKeyId": ADMIN_KEY[0], "secretAccessKey": ADMIN_KEY[1]},
            "resourceProperties": properties,
        },
    }


def invoke(client, request, function="TypeFunction"):
    response = client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    return json.loads(response["Payload"].read())


def test_create_read_delete_through_the_lambda_api(invoke_server):
    client = lambda_client(invoke_server)
    model = {
        "ClusterName": "demo",
        "Namespace": "default",
        "ServiceAccount": "boto3",
        "RoleArn": "arn:aws:iam::111122223333:role/demo-pod-role",
        "Tags": [{"Key": "team", "Value": "python"}],
    }
    created = invoke(client, handler_request("CREATE", model))
    assert created["status"] == "SUCCESS", created
    assert "errorCode" not in created
    arn = created["resourceModel"]["AssociationArn"]

    read = invoke(client, handler_request("READ", {"AssociationArn": arn}), function="TestEntrypoint")
    assert read["resourceModel"]["Tags"] == [{"Key": "team", "Value": "python"}]

    deleted = invoke(client, handler_request("DELETE", {"AssociationArn": arn}))
    assert deleted == {"status": "SUCCESS"}
    again = invoke(client, handler_request("DELETE", {"AssociationArn": arn}))
    assert again["status"] == "FAILED" and again["errorCode"] == "NotFound"


def test_a_malformed_payload_is_a_failed_event_not_a_lambda_error(invoke_server):
    client = lambda_client(invoke_server)
    response = client.invoke(FunctionName="TypeFunction", Payload=b'{"action": "CREATE"}')
    event = json.loads(response["Payload"].read())
    assert event["status"] == "FAILED"
    assert event["errorCode"] == "InvalidRequest"
