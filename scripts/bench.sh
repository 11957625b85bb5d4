#!/usr/bin/env bash
# Reproduces the README's performance figures: one release build for the Lambda target (x86_64 against glibc 2.34, as
# it ships for provided.al2023), the size of the Lambda package, then `pia bench` against the emulator on loopback.
#
# The build is `cargo zigbuild`: zig links against exactly glibc 2.34 whatever this machine's glibc is, as `cargo
# lambda` does. zig and cargo-zigbuild come from PyPI into .venv.
# PIA_LAMBDA_TARGET picks another package: aarch64-unknown-linux-gnu.2.34 (run here under qemu-user; Debian:
# qemu-user and libc6-arm64-cross), or a static *-unknown-linux-musl.
#
# `--peers` first sets up the peers of bench/peers/ (a venv from PyPI; npm ci, whose aws-lambda-ric builds native
# code with cmake and autotools, installed from Debian when missing) and measures them beside `bootstrap`:
# `scripts/bench.sh --peers --only peers` for that section alone. Other arguments go to `pia bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

set_up_peers() {
    local python=bench/peers/python typescript=bench/peers/typescript
    [ -x $python/.venv/bin/python ] || python3 -m venv $python/.venv
    $python/.venv/bin/pip install --quiet --disable-pip-version-check -r $python/requirements.txt
    if ! cmp -s $typescript/package-lock.json $typescript/node_modules/.installed-lock.json; then
        local tool missing=()
        for tool in cmake autoconf automake libtoolize make g++; do command -v $tool >/dev/null || missing+=("$tool"); done
        if ((${#missing[@]})); then
            [[ $(id -u) == 0 ]] || { echo "bench: aws-lambda-ric needs ${missing[*]} (Debian: cmake autoconf automake libtool make g++)" >&2; exit 2; }
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake autoconf automake libtool make g++ >/dev/null
        fi
        (cd $typescript && npm ci --no-audit --no-fund --loglevel=error)
        cp $typescript/package-lock.json $typescript/node_modules/.installed-lock.json
    fi
    (cd $typescript && npm run --silent build)
}

peers=()
if [[ ${1:-} == --peers ]]; then
    shift
    set_up_peers
    peers=(--peer Python=bench/peers/python/bootstrap --peer TypeScript=bench/peers/typescript/bootstrap)
fi

host=$(uname -m)-unknown-linux-gnu.2.34
target=${PIA_LAMBDA_TARGET:-$host}
# The directory cargo builds into has no glibc pin: x86_64-unknown-linux-gnu.2.34 → x86_64-unknown-linux-gnu.
triple() { sed -E 's/\.[0-9]+\.[0-9]+$//' <<<"$1"; }

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check ziglang==0.17.1 cargo-zigbuild==0.24.1
export PATH="$PWD/.venv/bin:$PATH"  # cargo-zigbuild finds zig as `python3 -m ziglang`
rustup --quiet target add "$(triple "$host")" "$(triple "$target")"

runner=()
if [[ $target == "$host" ]]; then
    cargo zigbuild --release --locked --target "$target" -p pia-provider --bin bootstrap -p pia-cli --bin pia --bin trivial-function
else
    arch=${target%%-*}
    command -v "qemu-$arch" >/dev/null || { echo "bench: running $target here needs qemu-$arch (Debian: qemu-user)" >&2; exit 2; }
    if [[ $target == *-gnu* ]]; then
        export QEMU_LD_PREFIX=/usr/$arch-linux-gnu  # where qemu finds the target's glibc
        [ -d "$QEMU_LD_PREFIX/lib" ] || { echo "bench: $target needs its glibc in $QEMU_LD_PREFIX (Debian: libc6-arm64-cross)" >&2; exit 2; }
    fi
    cargo zigbuild --release --locked --target "$target" -p pia-provider --bin bootstrap
    cargo zigbuild --release --locked --target "$host" -p pia-cli --bin pia
    runner=(--runner "qemu-$arch" --bootstrap "target/$(triple "$target")/release/bootstrap")
fi
bootstrap="target/$(triple "$target")/release/bootstrap"

# `pia check-bootstrap`, the check `pia package` makes: provided.al2023 can load this bootstrap (glibc ≤ 2.34, no other libraries).
"target/$(triple "$host")/release/pia" check-bootstrap "$bootstrap" >/dev/null

python3 - "$bootstrap" <<'PY'
import os, sys, zipfile, io
path = sys.argv[1]
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
    package.write(path, "bootstrap")
print(f"## Lambda package\n\n| artifact | size |\n|---|---|")
print(f"| `bootstrap` (stripped, LTO) | {os.path.getsize(path) / 1048576:.1f} MiB |")
print(f"| code zip (`handler.zip`) | {len(buffer.getvalue()) / 1048576:.1f} MiB |\n")
PY
"target/$(triple "$host")/release/pia" bench "${runner[@]}" "${peers[@]}" "$@"
