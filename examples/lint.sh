#!/usr/bin/env bash
# Lints the example templates with cfn-lint: the plain CloudFormation templates, then the CDK app's
# synthesized ones (npm ci from package-lock.json, tsc, cdk synth: about a minute with npm's cache warm).
# Needs cfn-lint on PATH (scripts/test.sh puts .venv/bin first) and, for the CDK part, Node.js and npm; with
# PIA_BIN (scripts/test.sh exports it) the synthesized stacks are then deployed on the emulator with the AWS CLI
# and with `pia stack`.
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

# Then deploy each synthesized stack on the emulator with the AWS CLI, as `cdk deploy` would (its bootstrap version
# check reads the emulator's parameter store), and delete it, then the same with `pia stack`: CDK's output must
# deploy, not only lint.
if [ -n "${PIA_BIN:-}" ]; then
    log=$(mktemp)
    "$PIA_BIN" emulator --port 0 >"$log" 2>/dev/null &
    emulator=$!
    trap 'kill $emulator 2>/dev/null; rm -f "$log"' EXIT
    for _ in $(seq 100); do grep -q "export AWS_ENDPOINT_URL=" "$log" && break; sleep 0.1; done
    endpoint=$(sed -n 's/^export AWS_ENDPOINT_URL=//p' "$log")
    export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_SESSION_TOKEN AWS_PROFILE
    for template in cdk.out/*.template.json; do
        stack=$(basename "$template" .template.json)
        aws --region us-east-1 --endpoint-url "$endpoint" cloudformation deploy --template-file "$template" \
            --stack-name "$stack" --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM >/dev/null
        aws --region us-east-1 --endpoint-url "$endpoint" cloudformation delete-stack --stack-name "$stack"
        aws --region us-east-1 --endpoint-url "$endpoint" cloudformation wait stack-delete-complete --stack-name "$stack"
        echo "examples/cdk: $stack deployed on the emulator and deleted (AWS CLI)"
        "$PIA_BIN" stack deploy "$template" --stack-name "$stack" --capabilities CAPABILITY_IAM,CAPABILITY_NAMED_IAM \
            --endpoint-url "$endpoint" --region us-east-1 >/dev/null
        "$PIA_BIN" stack delete "$stack" --endpoint-url "$endpoint" --region us-east-1 >/dev/null
        echo "examples/cdk: $stack deployed on the emulator and deleted (pia stack)"
    done
fi
