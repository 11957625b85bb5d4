"""Runs the CloudFormation CLI's own contract tests (`cfn test`) against this provider, offline.

It starts the emulated AWS (`pia emulator`) and the local Lambda Invoke API (`pia serve`), seeds the cluster and
the IAM roles that `inputs/` refer to, and runs `cfn test` in-process with one change: the CLI's endpoint lookup
honours `AWS_ENDPOINT_URL_<SERVICE>`, so that its STS calls (account lookup, session token) reach the emulator
instead of the internet. Everything else, including every handler invocation, goes over the real wire.
Exit status: 0 when every contract test passed, 1 when one failed, 2 when the harness could not run them.
"""
import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ACCOUNT = "111122223333"
TARGET_ACCOUNT = "444455556666"
REGION = "us-east-1"
CLUSTER = "contract-tests"
POD_ROLES = ["contract-pod-role", "contract-pod-role-2"]
TARGET_ROLES = ["contract-target-role", "contract-target-role-2"]
# The role CloudFormation would assume to call the handlers; it trusts the account.
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/contract-test-execution"
# The emulator's built-in administrator key (see `pia emulator`).
ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def pod_identity_trust_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def target_trust_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{POD_ROLES[0]}"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def account_trust_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }


def emulator_config():
    return {
        "clusters": [{"name": CLUSTER, "account_id": ACCOUNT, "region": REGION}],
        "roles": [
            {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "trust_policy": pod_identity_trust_policy()}
            for name in POD_ROLES
        ]
        + [
            {"arn": f"arn:aws:iam::{TARGET_ACCOUNT}:role/{name}", "trust_policy": target_trust_policy()}
            for name in TARGET_ROLES
        ]
        + [{"arn": EXECUTION_ROLE, "trust_policy": account_trust_policy()}],
    }


class Service(contextlib.AbstractContextManager):
    """A `pia` subcommand running in the background until the harness ends."""

    def __init__(self, pia, args, pattern):
        self.process = subprocess.Popen(  # nosec B603: fixed argv
            [pia, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.output = []
        for line in self.process.stdout:
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                self.url = match.group(1)
                return
        self.process.wait()
        raise RuntimeError(f"`pia {' '.join(args)}` did not start: {''.join(self.output)}")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


@contextlib.contextmanager
def endpoints_from_environment():
    """The one replacement: the CLI builds STS endpoints from botocore's table, ignoring AWS_ENDPOINT_URL_STS."""
    from rpdk.core import boto_helpers  # pylint: disable=import-outside-toplevel

    original = boto_helpers.get_service_endpoint

    def get_service_endpoint(service, region):
        override = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
        return override or original(service, region)

    boto_helpers.get_service_endpoint = get_service_endpoint
    try:
        yield
    finally:
        boto_helpers.get_service_endpoint = original


def session_credentials(endpoint):
    """Temporary credentials, as CloudFormation hands them to handlers: a session of the emulated STS."""
    import boto3  # pylint: disable=import-outside-toplevel

    sts = boto3.client(
        "sts", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1]
    )
    credentials = sts.assume_role(RoleArn=EXECUTION_ROLE, RoleSessionName="cfn-contract-test")["Credentials"]
    return credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]


def run_cfn_test(project_root, invoke_url, pytest_args):
    from rpdk.core.cli import main as cfn  # pylint: disable=import-outside-toplevel

    argv = ["test", "--endpoint", invoke_url, "--function-name", "TypeFunction", "--region", REGION,
            "--enforce-timeout", "60", "--", "-v", "-rA", "-p", "no:cacheprovider", "-o", "log_cli=false", *pytest_args]
    previous = Path.cwd()
    os.chdir(project_root)
    try:
        with endpoints_from_environment():
            cfn(args_in=argv)
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(previous)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pia-contract-test", description=__doc__.splitlines()[0])
    parser.add_argument("--pia", default=os.environ.get("PIA_BIN"), help="the pia binary (default: target/debug/pia)")
    parser.add_argument("--project-root", default=".", help="the resource provider project (default: .)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: extra arguments for pytest")
    args = parser.parse_args(argv)
    root = Path(args.project_root).resolve()
    pia = args.pia or str(root / "target" / "debug" / "pia")
    if not Path(pia).is_file():
        print(f"pia-contract-test: no pia binary at {pia}; run `cargo build --bin pia` first", file=sys.stderr)
        return 2
    pytest_args = [a for a in args.pytest_args if a != "--"]

    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "emulator.json"
        config.write_text(json.dumps(emulator_config()), encoding="utf-8")
        with Service(pia, ["emulator", "--port", "0", "--config", str(config)], r"EKS association API on (http://\S+)") as emulator, \
                Service(pia, ["serve", "--port", "0", "--endpoint-url", emulator.url], r"Lambda Invoke API on (http://\S+)") as invoke:
            environment = {"AWS_ENDPOINT_URL": emulator.url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
            os.environ.update(environment)
            key, secret, token = session_credentials(emulator.url)
            os.environ.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token})
            for stale in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
                os.environ.pop(stale, None)
            print(f"emulated AWS on {emulator.url}; handlers on {invoke.url}", flush=True)
            status = run_cfn_test(root, invoke.url, pytest_args)
            print("contract tests:", "every input set passed" if status == 0 else f"FAILED (exit status {status})", flush=True)
            return status


if __name__ == "__main__":
    sys.exit(main())
