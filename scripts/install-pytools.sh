#!/usr/bin/env bash
# Installs the Python packages the tests use as real, independent tools (the Prometheus
# exposition parser of `prometheus_client`, Apache-2.0) into a private directory under the cargo
# target dir; nothing goes into the system's Python.
#
# usage: scripts/install-pytools.sh        prints the directory (for PYTHONPATH) on its last line
# env:   WARDEN_PYTOOLS_DIR  install directory (default: <target>/pytools)
# Idempotent: nothing is downloaded when the packages are already there. Needs python3 with pip
# (installed with apt-get, through scripts/install-deps.sh, when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
PACKAGES=("prometheus_client==0.21.1")
DIR=${WARDEN_PYTOOLS_DIR:-$(target_dir "$ROOT")/pytools}
log() { echo "install-pytools: $*" >&2; }

if ! PYTHONPATH="$DIR" python3 -c 'import prometheus_client' 2>/dev/null; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        "$ROOT/scripts/install-deps.sh" python3-pip >&2
    fi
    log "installing ${PACKAGES[*]} into $DIR"
    mkdir -p "$DIR"
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
        --target "$DIR" "${PACKAGES[@]}" >&2
fi
PYTHONPATH="$DIR" python3 -c 'import prometheus_client' || { log "prometheus_client not importable from $DIR"; exit 1; }
echo "$DIR"
