"""`aws eks update-kubeconfig` (the AWS CLI, v1) against the emulator writes a kubeconfig that kubectl could use:
the cluster's endpoint and certificate authority, and a user whose exec plugin runs `aws eks get-token`."""
import base64
import os
import shutil
import subprocess
import sys

import boto3
import yaml

ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def aws_cli():
    """The `aws` of this Python's environment (the test venv), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "aws")
    return beside if os.path.exists(beside) else shutil.which("aws")


def cli_env(tmp_path):
    """The admin key and nothing from the user's AWS configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": ADMIN_KEY[0],
        "AWS_SECRET_ACCESS_KEY": ADMIN_KEY[1],
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    })
    return env


def test_update_kubeconfig_writes_the_clusters_endpoint_ca_and_token_user(emulator, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    env = cli_env(tmp_path)
    subprocess.run([aws_cli(), "eks", "update-kubeconfig", "--name", "demo", "--region", "us-east-1",
                    "--endpoint-url", emulator, "--kubeconfig", str(kubeconfig)],
                   env=env, check=True, capture_output=True, text=True, timeout=60)

    described = boto3.client("eks", endpoint_url=emulator, region_name="us-east-1",
                             aws_access_key_id=ADMIN_KEY[0],
                             aws_secret_access_key=ADMIN_KEY[1]).describe_cluster(name="demo")["cluster"]
    config = yaml.safe_load(kubeconfig.read_text())
    arn = described["arn"]
    assert config["current-context"] == arn
    [cluster] = config["clusters"]
    assert cluster["name"] == arn
    assert cluster["cluster"]["server"] == described["endpoint"]
    ca = cluster["cluster"]["certificate-authority-data"]
    assert ca == described["certificateAuthority"]["data"]
    assert base64.b64decode(ca).startswith(b"-----BEGIN CERTIFICATE-----\n")
    [context] = config["contexts"]
    assert context["context"] == {"cluster": arn, "user": arn}

    [user] = config["users"]
    assert user["name"] == arn
    plugin = user["user"]["exec"]
    assert plugin["command"] == "aws"
    assert plugin["args"] == ["--region", "us-east-1", "eks", "get-token", "--cluster-name", "demo",
                              "--output", "json"]

    # What kubectl would run for a token: the plugin's command, with the same credentials.
    token = subprocess.run([aws_cli(), *plugin["args"]], env=env, check=True, capture_output=True, text=True,
                           timeout=60)
    credential = yaml.safe_load(token.stdout)
    assert credential["kind"] == "ExecCredential"
    assert credential["status"]["token"].startswith("k8s-aws-v1.")
