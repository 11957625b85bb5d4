"""The `rust` language plugin: the CloudFormation CLI validates, generates and packages this project."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rpdk.core.exceptions import SysExitRecommendedError
from rpdk.rust.codegen import DEFAULT_TARGET, build_command

ROOT = Path(__file__).resolve().parents[2]
CFN = Path(sys.executable).parent / "cfn"


def project_copy(tmp_path):
    for name in (".rpdk-config", "aws-eks-podidentityassociation.json", "template.yml", "Cargo.toml", "Cargo.lock"):
        shutil.copy(ROOT / name, tmp_path / name)  # follows the schema symlink
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    return tmp_path


def cfn(project, *args, **env):
    return subprocess.run([str(CFN), *args], cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_validate_and_generate(tmp_path):
    project = project_copy(tmp_path)
    assert "Resource schema is valid." in cfn(project, "validate").stdout
    generated = cfn(project, "generate")
    assert generated.returncode == 0, generated.stderr
    settings = json.loads((project / "rpdk-config.json").read_text())
    assert settings["language"] == "rust" and settings["runtime"] == "provided.al2023"
    assert (project / "docs" / "README.md").is_file()
    role = (project / "resource-role.yaml").read_text()
    assert "eks:CreatePodIdentityAssociation" in role and "iam:PassRole" in role


def test_submit_dry_run_packages_an_executable_bootstrap(tmp_path):
    project = project_copy(tmp_path)
    bootstrap = os.environ.get("PIA_BIN", str(ROOT / "target" / "debug" / "pia")).replace("/pia", "/bootstrap")
    result = cfn(project, "submit", "--dry-run", PIA_BOOTSTRAP=bootstrap)
    assert result.returncode == 0, result.stdout + result.stderr
    # The plugin runs `pia check-bootstrap`: a debug build is packaged, with a warning saying how to build the release.
    assert "bootstrap carries debug info, as a debug build does" in result.stdout + result.stderr
    with zipfile.ZipFile(project / "aws-eks-podidentityassociation.zip") as package:
        names = set(package.namelist())
        assert {"schema.json", ".rpdk-config", "handler.zip", "inputs/inputs_1_create.json"} <= names
        with zipfile.ZipFile(package.open("handler.zip")) as handler:
            entry = handler.getinfo("bootstrap")
            assert (entry.external_attr >> 16) & 0o777 == 0o755
            assert handler.read("bootstrap") == Path(bootstrap).read_bytes()


def fake_tools(tmp_path, monkeypatch, *names):
    """A PATH holding only `names`, so the test sees which build the plugin would run for a target."""
    for name in names:
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_the_default_build_pins_the_glibc_of_provided_al2023(tmp_path, monkeypatch):
    fake_tools(tmp_path, monkeypatch, "cargo", "cargo-zigbuild")
    command, output = build_command(DEFAULT_TARGET)
    assert Path(command[0]).name == "cargo-zigbuild"
    assert command[1:] == ["zigbuild", "--release", "--locked", "-p", "pia-provider", "--bin", "bootstrap",
                           "--target", "x86_64-unknown-linux-gnu.2.34"]
    assert output == Path("target/x86_64-unknown-linux-gnu/release/bootstrap")
    # zig is the C compiler for a static musl or a cross build too; only a glibc pin stays out of the path.
    command, output = build_command("aarch64-unknown-linux-musl")
    assert command[-1] == "aarch64-unknown-linux-musl"
    assert output == Path("target/aarch64-unknown-linux-musl/release/bootstrap")


def test_a_missing_cargo_zigbuild_is_named_with_how_to_install_it(tmp_path, monkeypatch):
    fake_tools(tmp_path, monkeypatch, "cargo")
    with pytest.raises(SysExitRecommendedError, match="cargo-zigbuild is not on PATH.*pip install ziglang cargo-zigbuild"):
        build_command("x86_64-unknown-linux-gnu.2.34")
    with pytest.raises(SysExitRecommendedError, match="cargo-zigbuild is not on PATH"):
        build_command("x86_64-unknown-linux-musl")


def test_submit_refuses_a_bootstrap_lambda_could_not_load(tmp_path):
    project = project_copy(tmp_path)
    script = tmp_path / "bootstrap"
    script.write_text("#!/bin/sh\necho hi\n")
    result = cfn(project, "submit", "--dry-run", PIA_BOOTSTRAP=str(script))
    assert result.returncode != 0
    assert "not a 64-bit Linux executable" in result.stdout + result.stderr
