#!/usr/bin/env bash
# The demo: builds Warden and runs `warden demo` (three Wardens fail over a Redis master on loopback;
# as root, also the VIP moving between network namespaces).
#
# usage: scripts/demo.sh [warden demo options, e.g. --keep]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

./scripts/install-deps.sh pkg-config libssl-dev redis-server redis-tools iproute2
ensure_cargo
cargo build --release -p warden -p warden-demo
exec "$(target_dir "$ROOT")/release/warden" demo "$@"
