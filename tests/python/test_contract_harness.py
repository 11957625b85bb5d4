"""The contract harness must fail when a contract test fails, not only pass when they pass."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
