#!/usr/bin/env bash
# Reproduces the README's performance figures: one release build for the Lambda target (static musl, as it ships
# for provided.al2023), the size of the Lambda package, then `pia bench` against the emulator on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
# PIA_LAMBDA_TARGET=aarch64-unknown-linux-musl measures the arm64 package: built with cargo zigbuild (zig supplies the
# cross C compiler; `pip install ziglang`, `cargo install cargo-zigbuild`) and run under qemu-user (Debian: qemu-user).
host=$(uname -m)-unknown-linux-musl
target=${PIA_LAMBDA_TARGET:-$host}
runner=()

command -v musl-gcc >/dev/null || { echo "bench: needs musl-gcc (Debian: apt-get install musl-tools)" >&2; exit 2; }
rustup target add "$host" "$target" >/dev/null 2>&1 || true
if [[ $target == "$host" ]]; then
    cargo build --release --locked --target "$target" --bin bootstrap --bin pia
else
    command -v cargo-zigbuild >/dev/null || { echo "bench: a cross build needs cargo-zigbuild and zig" >&2; exit 2; }
    emulator=qemu-${target%%-*}
    command -v "$emulator" >/dev/null || { echo "bench: running $target here needs $emulator (Debian: qemu-user)" >&2; exit 2; }
    cargo zigbuild --release --locked --target "$target" --bin bootstrap
    cargo build --release --locked --target "$host" --bin pia
    runner=(--runner "$emulator" --bootstrap "target/$target/release/bootstrap")
fi
dir="target/$target/release"

python3 - "$dir/bootstrap" <<'PY'
import os, sys, zipfile, io
path = sys.argv[1]
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
    package.write(path, "bootstrap")
print(f"## Lambda package\n\n| artifact | size |\n|---|---|")
print(f"| `bootstrap` (stripped, LTO) | {os.path.getsize(path) / 1048576:.1f} MiB |")
print(f"| code zip (`handler.zip`) | {len(buffer.getvalue()) / 1048576:.1f} MiB |\n")
PY
"target/$host/release/pia" bench "${runner[@]}" "$@"
