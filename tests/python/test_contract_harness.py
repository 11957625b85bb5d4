"""The contract harness must fail when a contract test fails, not only pass when they pass."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_contract_test_fails_the_harness(tmp_path):
    for name in (".rpdk-config", "aws-eks-podidentityassociation.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    create = json.loads((ROOT / "inputs" / "inputs_1_create.json").read_text())
    create["ClusterName"] = "no-such-cluster"  # every create fails: the suite must report it
    (inputs / "inputs_1_create.json").write_text(json.dumps(create))
    shutil.copy(ROOT / "inputs" / "inputs_1_update.json", inputs / "inputs_1_update.json")
    shutil.copy(ROOT / "inputs" / "inputs_1_invalid.json", inputs / "inputs_1_invalid.json")

    harness = Path(sys.executable).parent / "pia-contract-test"
    result = subprocess.run(
        [str(harness), "--project-root", str(tmp_path), "--", "-k", "contract_create_read"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIA_BIN": os.environ.get("PIA_BIN", str(ROOT / "target" / "debug" / "pia"))},
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAILED" in result.stdout
    assert "contract tests: FAILED" in result.stdout


def test_under_the_harness_every_cloudformation_error_code_resolves_and_the_enum_is_restored():
    import importlib

    from rpdk.core.contract import hook_client, interface, resource_client
    from rpdk.core.contract.interface import OperationStatus
    from rpdk.rust import contract

    original = interface.HandlerErrorCode
    # The CLI's enum lacks exactly UnauthorizedTaggingOperation (a new CLI code must reach the provider too).
    assert set(contract.CLOUDFORMATION_ERROR_CODES) - set(original.__members__) == {"UnauthorizedTaggingOperation"}
    assert set(original.__members__) <= set(contract.CLOUDFORMATION_ERROR_CODES)
    assert len(contract.CLOUDFORMATION_ERROR_CODES) == len(set(contract.CLOUDFORMATION_ERROR_CODES)) == 20
    suite_before = {name: module for name, module in sys.modules.items() if ".contract.suite" in name}

    with contract.cloudformation_error_codes() as replacement:
        # the suite's modules, imported under the patch as pytest imports them during `cfn test`
        suite = [
            importlib.import_module("rpdk.core.contract.suite.contract_asserts_commons"),
            importlib.import_module("rpdk.core.contract.suite.resource.handler_commons"),
            importlib.import_module("rpdk.core.contract.suite.resource.handler_delete"),
        ]
        for module in [interface, resource_client, hook_client, *suite]:
            assert module.HandlerErrorCode is replacement, module.__name__
            for code in contract.CLOUDFORMATION_ERROR_CODES:
                assert module.HandlerErrorCode[code].value == code
        assert list(replacement.__members__) == list(contract.CLOUDFORMATION_ERROR_CODES)
        assert issubclass(replacement, interface.AutoName)
        # the check `cfn test` makes of every FAILED event
        failed = {"errorCode": "UnauthorizedTaggingOperation"}
        assert resource_client.ResourceClient.assert_failed(OperationStatus.FAILED, failed) is (
            replacement.UnauthorizedTaggingOperation
        )

    for module in (interface, resource_client, hook_client):
        assert module.HandlerErrorCode is original, module.__name__
    with pytest.raises(KeyError):
        resource_client.ResourceClient.assert_failed(OperationStatus.FAILED, failed)
    assert original["NotFound"].value == "NotFound"
    holding = [name for name, module in sys.modules.items() if getattr(module, "__dict__", {}).get("HandlerErrorCode")]
    assert not [name for name in holding if sys.modules[name].HandlerErrorCode is replacement]
    assert {name: module for name, module in sys.modules.items() if ".contract.suite" in name} == suite_before


def test_the_role_late_project_root_holds_the_role_late_set_as_inputs_1(tmp_path):
    from rpdk.core.project import Project
    from rpdk.core.test import get_inputs
    from rpdk.rust import contract

    project = contract.role_late_project(ROOT, tmp_path)
    names = ["inputs_1_create.json", "inputs_1_invalid.json", "inputs_1_update.json"]
    assert sorted(path.name for path in (project / "inputs").iterdir()) == names

    headers = {"account_id": None, "source_arn": None}
    inputs = get_inputs(project, contract.REGION, None, 1, None, None, headers=headers)
    role_late = ROOT / "inputs" / "role-late"
    assert inputs == {
        kind: json.loads((role_late / f"inputs_1_{kind.lower()}.json").read_text())
        for kind in ("CREATE", "UPDATE", "INVALID")
    }
    assert inputs["CREATE"]["RoleArn"] == f"arn:aws:iam::{contract.ACCOUNT}:role/{contract.LATE_ROLES[0]}"
    assert inputs["UPDATE"]["RoleArn"] == f"arn:aws:iam::{contract.ACCOUNT}:role/{contract.LATE_ROLES[1]}"
    assert inputs["CREATE"]["Tags"] and inputs["UPDATE"]["Tags"]
    assert not get_inputs(project, contract.REGION, None, 2, None, None, headers=headers)  # one set only

    # It cannot clash with the other sets: its own namespace and service account, in the same cluster.
    others = {
        (json.loads(path.read_text())["Namespace"], json.loads(path.read_text())["ServiceAccount"])
        for path in (ROOT / "inputs").glob("inputs_*.json")
    }
    assert (inputs["CREATE"]["Namespace"], inputs["CREATE"]["ServiceAccount"]) not in others

    # `cfn test` loads the project from it: settings and schema, the same as the project's.
    loaded, reference = Project(root=project), Project(root=ROOT)
    loaded.load()
    reference.load()
    assert loaded.type_name == "AWS::EKS::PodIdentityAssociation"
    assert loaded.schema == reference.schema

    # The late roles are not in the emulator's config: they are created through IAM, and reach EKS later.
    config = contract.emulator_config(ROOT)
    assert config["role_propagation_seconds"] == contract.ROLE_PROPAGATION_SECONDS == 20
    # The handlers run as a role holding exactly the schema's handler permissions.
    execution = next(role for role in config["roles"] if role["arn"] == contract.EXECUTION_ROLE)
    statement = execution["inline_policies"]["handler-permissions"]["Statement"][0]
    listed = {p for handler in reference.schema["handlers"].values() for p in handler["permissions"]}
    assert sorted(listed) == statement["Action"] and statement["Resource"] == "*"
    assert not [role for role in config["roles"] if role["arn"].rsplit("/", 1)[1] in contract.LATE_ROLES]


def test_your_world_and_your_input_sets_run_each_set_labelled(tmp_path):
    """--config: a cluster of your own in another region with your roles; --inputs: two sets, each run and reported
    on its own (the project's sets and its role-late run are not)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in (".rpdk-config", "aws-eks-podidentityassociation.json"):
        shutil.copy(ROOT / name, project / name)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                                     "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    roles = [f"arn:aws:iam::111122223333:role/shop-{n}" for n in ("api", "api-2")]
    config = tmp_path / "world.json"
    config.write_text(json.dumps({"clusters": [{"name": "shop", "region": "eu-west-1"}],
                                  "roles": [{"arn": arn, "trust_policy": trust} for arn in roles]}))
    inputs = tmp_path / "my-inputs"
    for namespace in ("checkout", "search"):
        directory = inputs / namespace
        directory.mkdir(parents=True)
        model = {"ClusterName": "shop", "Namespace": namespace, "ServiceAccount": "api", "RoleArn": roles[0]}
        (directory / "inputs_1_create.json").write_text(json.dumps(model))
        (directory / "inputs_1_update.json").write_text(json.dumps({**model, "RoleArn": roles[1]}))
        (directory / "inputs_1_invalid.json").write_text(json.dumps({**model, "RoleArn": "not-an-arn"}))

    harness = Path(sys.executable).parent / "pia-contract-test"
    result = subprocess.run(
        [str(harness), "--project-root", str(project), "--config", str(config), "--inputs", str(inputs),
         "--", "-k", "contract_create_read"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PIA_BIN": os.environ.get("PIA_BIN", str(ROOT / "target" / "debug" / "pia"))},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("input set")]
    assert [line.split(": ")[0] for line in lines] == [f"input set {inputs}/checkout", f"input set {inputs}/search"]
    assert all(": passed in " in line for line in lines), lines
    assert "role-late" not in result.stdout
    assert "contract tests: every input set passed" in result.stdout


def test_a_missing_input_set_is_a_usage_error(tmp_path):
    harness = Path(sys.executable).parent / "pia-contract-test"
    result = subprocess.run([str(harness), "--project-root", str(ROOT), "--inputs", str(tmp_path)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PIA_BIN": os.environ.get("PIA_BIN", str(ROOT / "target" / "debug" / "pia"))})
    assert result.returncode == 2
    assert f"no inputs_*.json in {tmp_path}" in result.stderr
