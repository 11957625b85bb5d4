#!/usr/bin/env bash
# The Lambda's code by crate: `bootstrap` built as it ships (release, LTO, the same features) but with its symbols
# kept, read by cargo-bloat (from crates.io, into target/tools). `scripts/sizes.sh 60` shows 60 crates.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/target/tools"
[ -x "$tools/bin/cargo-bloat" ] || cargo install --quiet --locked --root "$tools" cargo-bloat@0.12.1
PATH="$tools/bin:$PATH" CARGO_PROFILE_RELEASE_STRIP=false \
    cargo bloat --release --locked -p pia-provider --bin bootstrap --crates -n "${1:-25}"
