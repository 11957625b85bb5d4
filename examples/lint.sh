#!/usr/bin/env bash
# Lints the example templates with cfn-lint: the plain CloudFormation templates, then the CDK app's
# synthesized ones (npm ci from package-lock.json, tsc, cdk synth: about a minute with npm's cache warm).
# Needs cfn-lint on PATH (scripts/test.sh puts .venv/bin first) and, for the CDK part, Node.js and npm.
# PIA_SKIP_CDK=1 lints the plain templates only.
set -euo pipefail
cd "$(dirname "$0")"

cfn-lint cloudformation/*.yaml
echo "cfn-lint: examples/cloudformation templates OK"

if [ "${PIA_SKIP_CDK:-0}" = 1 ]; then
    echo "examples/cdk: skipped (PIA_SKIP_CDK=1)"
    exit 0
fi

cd cdk
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
npx tsc --noEmit
rm -rf cdk.out
# No version check, notices or telemetry: synth must not depend on anything but the installed packages.
CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth --quiet --no-notices >/dev/null
cfn-lint cdk.out/*.template.json
echo "cfn-lint: examples/cdk synthesized templates OK"
