#!/usr/bin/env bash
# Reproduces the README's performance figures: one release build for the Lambda target (static musl, as it ships
# for provided.al2023), the size of the Lambda package, then `pia bench` against the emulator on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${PIA_LAMBDA_TARGET:-x86_64-unknown-linux-musl}

command -v musl-gcc >/dev/null || { echo "bench: needs musl-gcc (Debian: apt-get install musl-tools)" >&2; exit 2; }
rustup target add "$target" >/dev/null 2>&1 || true
cargo build --release --locked --target "$target" --bin bootstrap --bin pia
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
"$dir/pia" bench "$@"
