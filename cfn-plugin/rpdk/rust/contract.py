"""Runs the CloudFormation CLI's own contract tests (`cfn test`) against this provider, offline.

It starts the emulated AWS (`pia emulator`) and the local Lambda Invoke API (`pia serve`), seeds the cluster and
the IAM roles that `inputs/` refer to, and runs `cfn test` in-process with two changes: the CLI's endpoint lookup
honours `AWS_ENDPOINT_URL_<SERVICE>`, so that its STS calls (account lookup, session token) reach the emulator
instead of the internet; and its `HandlerErrorCode` enum has every error code CloudFormation defines (the CLI's
lacks `UnauthorizedTaggingOperation`, and fails on a handler answering it). Everything else, including every
handler invocation, goes over the real wire.

Two runs: the input sets `inputs/inputs_*`, then the set `inputs/role-late/` against roles created through IAM
just before that run, which the emulated EKS sees only `ROLE_PROPAGATION_SECONDS` later (IAM propagation): Create
must wait for its role within the invocation. With `--config` (your clusters and roles) and `--inputs DIR` (your
input sets) it runs yours instead, each set on its own and labelled in the output.
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
import time
from pathlib import Path

ACCOUNT = "111122223333"
TARGET_ACCOUNT = "444455556666"
REGION = "us-east-1"
CLUSTER = "contract-tests"
POD_ROLES = ["contract-pod-role", "contract-pod-role-2"]
TARGET_ROLES = ["contract-target-role", "contract-target-role-2"]
# The role CloudFormation would assume to call the handlers; it trusts the account and holds exactly the
# permissions the schema's handlers list, so that a handler calling anything else fails with AccessDenied.
EXECUTION_ROLE_NAME = "contract-test-execution"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{EXECUTION_ROLE_NAME}"
# The emulator's built-in administrator key (see `pia emulator`).
ADMIN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
# The role-late input set (`inputs/role-late/`): its roles are created through IAM right before its run, and reach
# EKS only ROLE_PROPAGATION_SECONDS after that (roles of the emulator config are visible at once).
ROLE_LATE = "role-late"
LATE_ROLES = ["contract-late-role", "contract-late-role-2"]
ROLE_PROPAGATION_SECONDS = 20
# What `cfn test` reads from a project root, besides `inputs/` (and `overrides.json` when there is one).
SETTINGS_FILE = ".rpdk-config"
SCHEMA_FILE = "aws-eks-podidentityassociation.json"
OVERRIDES_FILE = "overrides.json"
LOG_FILE = "rpdk.log"  # the CLI's log, written to the working directory

# Every handler error code CloudFormation defines, as the provider's HandlerErrorCode has them (a Rust test
# compares the two). The CLI's enum lacks UnauthorizedTaggingOperation.
CLOUDFORMATION_ERROR_CODES = (
    "NotUpdatable",
    "InvalidRequest",
    "AccessDenied",
    "UnauthorizedTaggingOperation",
    "InvalidCredentials",
    "AlreadyExists",
    "NotFound",
    "ResourceConflict",
    "Throttling",
    "ServiceLimitExceeded",
    "NotStabilized",
    "GeneralServiceException",
    "ServiceInternalError",
    "NetworkFailure",
    "InternalFailure",
    "InvalidTypeConfiguration",
    "HandlerInternalFailure",
    "NonCompliant",
    "UnsupportedTarget",
    "Unknown",
)
CONTRACT_PACKAGE = "rpdk.core.contract"


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


def handler_permissions(root):
    """Every permission the schema's `handlers.*.permissions` list, each once."""
    schema = json.loads((Path(root) / SCHEMA_FILE).read_text(encoding="utf-8"))
    return sorted({p for handler in schema.get("handlers", {}).values() for p in handler.get("permissions", [])})


def execution_role(root, account):
    """The role the handlers run as, in `account`: trusted by the administrator's account, allowed exactly the
    schema's handler permissions."""
    execution_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": handler_permissions(root), "Resource": "*"}],
    }
    return {
        "arn": f"arn:aws:iam::{account}:role/{EXECUTION_ROLE_NAME}",
        "trust_policy": account_trust_policy(),
        "inline_policies": {"handler-permissions": execution_policy},
    }


def emulator_config(root):
    """The harness's own world: the cluster and roles the project's `inputs/` refer to."""
    return {
        "clusters": [{"name": CLUSTER, "account_id": ACCOUNT, "region": REGION}],
        "role_propagation_seconds": ROLE_PROPAGATION_SECONDS,
        "roles": [
            {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "trust_policy": pod_identity_trust_policy()}
            for name in POD_ROLES
        ]
        + [
            {"arn": f"arn:aws:iam::{TARGET_ACCOUNT}:role/{name}", "trust_policy": target_trust_policy()}
            for name in TARGET_ROLES
        ]
        + [execution_role(root, ACCOUNT)],
    }


def user_world(root, config):
    """The user's world (a `pia emulator --config` file: their clusters and roles) with the execution role added, in
    the account of its first cluster; that account and cluster's region are the contract tests'."""
    first = (config.get("clusters") or [{}])[0]
    account, region = first.get("account_id", ACCOUNT), first.get("region", REGION)
    world = dict(config)
    world["roles"] = [*config.get("roles", []), execution_role(root, account)]
    return world, account, region


def input_sets(directory):
    """(label, files) of each input set under `directory`: its own `inputs_*.json`, then each subdirectory's, by
    name."""
    directory = Path(directory)
    candidates = [directory, *sorted(path for path in directory.iterdir() if path.is_dir())]
    sets = []
    for candidate in candidates:
        files = sorted(candidate.glob("inputs_*.json"))
        if files:
            label = str(directory) if candidate == directory else str(directory / candidate.name)
            sets.append((label, files))
    return sets


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


def _modules_in(directory):
    """The loaded modules whose source lies in `directory`, under whatever name they were imported. (pytest
    imports the suite's test modules a second time, as `core.contract.suite.…`: `rpdk` is a namespace package.)"""
    found = {}
    for name, module in list(sys.modules.items()):
        source = vars(module).get("__file__") if hasattr(module, "__dict__") else None
        if isinstance(source, str) and Path(source).resolve().is_relative_to(directory):
            found[name] = module
    return found


@contextlib.contextmanager
def cloudformation_error_codes():
    """The second replacement: `HandlerErrorCode`, wherever the suite looks it up, with every code CloudFormation has.

    The CLI checks a FAILED event's code with `HandlerErrorCode[response["errorCode"]]`, a KeyError for a code its
    enum lacks. The replacement is an enum of the same kind (values equal to names). The suite's modules hold error
    codes from the time they were imported (`@failed_event(HandlerErrorCode.NotFound)`), so they are imported afresh
    while it is in place. Everything is put back afterwards, the suite's modules as they were before.
    """
    import importlib  # pylint: disable=import-outside-toplevel

    from rpdk.core.contract import interface  # pylint: disable=import-outside-toplevel

    for name in ("resource_client", "hook_client"):  # import them now, so that they are patched and restored
        importlib.import_module(f"{CONTRACT_PACKAGE}.{name}")
    original = interface.HandlerErrorCode
    names = list(CLOUDFORMATION_ERROR_CODES) + [n for n in original.__members__ if n not in CLOUDFORMATION_ERROR_CODES]
    replacement = interface.AutoName(
        "HandlerErrorCode", [(n, n) for n in names], module=interface.__name__, qualname=original.__qualname__
    )
    contract = Path(interface.__file__).resolve().parent
    suite_directory = contract / "suite"

    suite = _modules_in(suite_directory)
    for name in suite:
        del sys.modules[name]
    patched = [m for m in _modules_in(contract).values() if m.__dict__.get("HandlerErrorCode") is original]
    for module in patched:
        module.HandlerErrorCode = replacement
    try:
        yield replacement
    finally:
        fresh = _modules_in(suite_directory)
        for name in fresh:
            del sys.modules[name]
        for module in patched:
            module.HandlerErrorCode = original
        for module in _modules_in(contract).values():  # contract modules first imported meanwhile
            if module.__dict__.get("HandlerErrorCode") is replacement:
                module.HandlerErrorCode = original
        sys.modules.update(suite)
        for name in sorted(set(fresh) | set(suite)):  # each package's attribute for its submodule, as before
            parent, _, child = name.rpartition(".")
            package = sys.modules.get(parent)
            if package is None:
                continue
            if name in suite:
                setattr(package, child, suite[name])
            elif child in package.__dict__:
                delattr(package, child)


def session_credentials(endpoint, role_arn=EXECUTION_ROLE, region=REGION):
    """Temporary credentials, as CloudFormation hands them to handlers: a session of the emulated STS."""
    import boto3  # pylint: disable=import-outside-toplevel

    sts = boto3.client(
        "sts", endpoint_url=endpoint, region_name=region, aws_access_key_id=ADMIN_KEY[0], aws_secret_access_key=ADMIN_KEY[1]
    )
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="cfn-contract-test")["Credentials"]
    return credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]


def create_late_roles(endpoint):
    """The role-late set's roles, made through the emulated IAM as a deployment would: EKS sees them only later."""
    import boto3  # pylint: disable=import-outside-toplevel

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ADMIN_KEY[0],
        aws_secret_access_key=ADMIN_KEY[1],
    )
    for name in LATE_ROLES:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(pod_identity_trust_policy()))


def role_late_inputs(root):
    """The role-late set's files in the project, `inputs/role-late/inputs_1_*.json`."""
    return sorted((Path(root) / "inputs" / ROLE_LATE).glob("inputs_1_*.json"))


def input_set_project(root, directory, files):
    """A project root for one input set: links to the project's settings and schema, and `inputs/` holding `files`
    (named `inputs_N_*`, the only names `cfn test` reads). The CLI's log goes to the project's."""
    root, directory = Path(root), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (SETTINGS_FILE, SCHEMA_FILE, OVERRIDES_FILE):
        if (root / name).exists():
            (directory / name).symlink_to((root / name).resolve())
    (directory / LOG_FILE).symlink_to(root / LOG_FILE)
    inputs = directory / "inputs"
    inputs.mkdir()
    for source in files:
        (inputs / source.name).symlink_to(source.resolve())
    return directory


def role_late_project(root, directory):
    """The project root of the role-late run: the role-late set as `inputs_1_*`."""
    return input_set_project(root, directory, role_late_inputs(root))


def outcome(status):
    return "passed" if status == 0 else f"FAILED (exit status {status})"


def run_cfn_test(project_root, invoke_url, pytest_args, region=REGION):
    from rpdk.core.cli import main as cfn  # pylint: disable=import-outside-toplevel

    argv = ["test", "--endpoint", invoke_url, "--function-name", "TypeFunction", "--region", region,
            "--enforce-timeout", "60", "--", "-v", "-rA", "-p", "no:cacheprovider", "-o", "log_cli=false", *pytest_args]
    previous = Path.cwd()
    os.chdir(project_root)
    try:
        with endpoints_from_environment(), cloudformation_error_codes():
            cfn(args_in=argv)
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(previous)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pia-contract-test", description=__doc__.splitlines()[0])
    parser.add_argument("--pia", default=os.environ.get("PIA_BIN"),
                        help="the pia binary (default: PIA_BIN, else target/debug/pia of the project)")
    parser.add_argument("--project-root", default=".", help="the resource provider project (default: .)")
    parser.add_argument("--config", help="your world instead of the harness's: a `pia emulator --config` file with "
                        "your clusters and roles (the harness adds the role the handlers run as, in the account of "
                        "the first cluster, whose region the tests use)")
    parser.add_argument("--inputs", help="your input sets instead of the project's: a directory whose inputs_*.json "
                        "files are one set and each subdirectory holding such files another, each run and reported on "
                        "its own")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: extra arguments for pytest")
    args = parser.parse_args(argv)
    root = Path(args.project_root).resolve()
    pia = args.pia or str(root / "target" / "debug" / "pia")
    if not Path(pia).is_file():
        print(f"pia-contract-test: no pia binary at {pia}; run `cargo build -p pia-cli` first", file=sys.stderr)
        return 2
    pytest_args = [a for a in args.pytest_args if a != "--"]
    try:
        world, account, region = (user_world(root, json.loads(Path(args.config).read_text(encoding="utf-8")))
                                  if args.config else (emulator_config(root), ACCOUNT, REGION))
        sets = input_sets(args.inputs) if args.inputs else None
    except (OSError, ValueError) as error:
        print(f"pia-contract-test: {error}", file=sys.stderr)
        return 2
    if sets == []:
        print(f"pia-contract-test: no inputs_*.json in {args.inputs} or its subdirectories", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "emulator.json"
        config.write_text(json.dumps(world), encoding="utf-8")
        with Service(pia, ["emulator", "--port", "0", "--config", str(config)], r"EKS association API on (http://\S+)") as emulator, \
                Service(pia, ["serve", "--port", "0", "--endpoint-url", emulator.url], r"Lambda Invoke API on (http://\S+)") as invoke:
            environment = {"AWS_ENDPOINT_URL": emulator.url, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
            os.environ.update(environment)
            try:
                key, secret, token = session_credentials(
                    emulator.url, f"arn:aws:iam::{account}:role/{EXECUTION_ROLE_NAME}", region)
            except Exception as error:  # pylint: disable=broad-except
                print(f"pia-contract-test: cannot get the handlers' session as the emulator's admin key "
                      f"({ADMIN_KEY[0]}; keep it in the config's access_keys): {error}", file=sys.stderr)
                return 2
            os.environ.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token})
            for stale in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
                os.environ.pop(stale, None)
            print(f"emulated AWS on {emulator.url}; handlers on {invoke.url}", flush=True)
            if sets is None:
                status = run_cfn_test(root, invoke.url, pytest_args)
                print("input sets inputs/inputs_*:", outcome(status), flush=True)
                if not args.config:
                    status = max(status, run_role_late(root, Path(scratch), emulator.url, invoke.url, pytest_args))
            else:
                status = 0
                for number, (label, files) in enumerate(sets, 1):
                    project = input_set_project(root, Path(scratch) / f"set-{number}", files)
                    started = time.monotonic()
                    result = run_cfn_test(project, invoke.url, pytest_args, region)
                    print(f"input set {label}:", outcome(result), f"in {time.monotonic() - started:.1f} s", flush=True)
                    status = max(status, result)
            print("contract tests:", "every input set passed" if status == 0 else f"FAILED (exit status {status})", flush=True)
            return status


def run_role_late(root, scratch, emulator_url, invoke_url, pytest_args):
    label = f"input set {ROLE_LATE} (role visible to EKS {ROLE_PROPAGATION_SECONDS} s after the run starts):"
    if not role_late_inputs(root):
        print(label, f"not run, no inputs_1_*.json in {root / 'inputs' / ROLE_LATE}", flush=True)
        return 0
    project = scratch / ROLE_LATE
    project.mkdir()
    role_late_project(root, project)
    try:
        create_late_roles(emulator_url)
    except Exception as error:  # pylint: disable=broad-except
        print(label, f"could not create its roles: {error}", flush=True)
        return 2
    print(f"{label} roles {', '.join(LATE_ROLES)} created", flush=True)
    started = time.monotonic()
    status = run_cfn_test(project, invoke_url, pytest_args)
    print(label, outcome(status), f"in {time.monotonic() - started:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
