#!/usr/bin/env bash
# Reproduces the README's performance figures: one release build for the Lambda target (x86_64 against glibc 2.34, as
# it ships for provided.al2023), the size of the Lambda package, then `pia bench` against the emulator on loopback.
#
# The build is `cargo zigbuild`: zig links against exactly glibc 2.34 whatever this machine's glibc is, as `cargo
# lambda` does. zig and cargo-zigbuild come from PyPI into .venv.
# PIA_LAMBDA_TARGET picks another package: aarch64-unknown-linux-gnu.2.34 (run here under qemu-user; Debian:
# qemu-user and libc6-arm64-cross), or a static *-unknown-linux-musl.
set -euo pipefail
cd "$(dirname "$0")/.."

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
    cargo zigbuild --release --locked --target "$target" -p pia-provider --bin bootstrap -p pia-cli --bin pia
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
"target/$(triple "$host")/release/pia" bench "${runner[@]}" "$@"
