#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, integration against the emulator), the Python checks that use real
# boto3 clients against the local services, and the CloudFormation CLI's own contract tests (`cfn test`), offline.
# Safe to run on a fresh machine: it creates .venv itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

cargo fmt --all -- --check   # rustfmt.toml: the project's 120 columns
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo test --workspace --locked   # also leaves target/debug/pia and target/debug/bootstrap, built for the tests
export PIA_BIN="$PWD/target/debug/pia"
.venv/bin/python -m pytest -q tests/python
.venv/bin/pia-contract-test
# cfn-lint on the example templates (plain CloudFormation, and the CDK app synthesized).
PATH="$PWD/.venv/bin:$PATH" examples/lint.sh
