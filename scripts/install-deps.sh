#!/usr/bin/env bash
# Installs the Debian packages Warden's demo, tests and benchmarks use, if they are missing.
#
# usage: scripts/install-deps.sh [PACKAGE ...]   (default: all of them)
#
# Idempotent: installed packages are left alone, and apt-get runs only when something is missing.
# The Debian packages of redis-server, redis-sentinel, keepalived, haproxy and frr start system services
# on install;
# those would take ports 6379/26379 and disturb the tests. Services are kept from starting during the
# install (policy-rc.d), and any of them that is running afterwards but was not running before is
# stopped again. Nothing that was running before is touched.
set -euo pipefail

DEFAULT_PACKAGES=(pkg-config libssl-dev openssl redis-server redis-tools redis-sentinel tcl tcl-tls iproute2
    iputils-arping tcpdump keepalived haproxy frr python3-pip)
SERVICES=(redis-server redis-sentinel keepalived haproxy frr)
if [ $# -gt 0 ]; then PACKAGES=("$@"); else PACKAGES=("${DEFAULT_PACKAGES[@]}"); fi

log() { echo "install-deps: $*"; }

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    log "all present: ${PACKAGES[*]}"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo)
fi
command -v apt-get >/dev/null || { log "apt-get not found; install by hand: ${missing[*]}" >&2; exit 1; }

# Which services run now (only these are left running afterwards).
service_running() {
    if [ -d /run/systemd/system ]; then
        systemctl is-active --quiet "$1" 2>/dev/null
    else
        pgrep -x "$1" >/dev/null 2>&1
    fi
}
running_before=()
for svc in "${SERVICES[@]}"; do
    service_running "$svc" && running_before+=("$svc")
done

# Keep invoke-rc.d from starting services during the install, unless a policy is already in place.
POLICY=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# Added by warden scripts/install-deps.sh for the duration of an install.\nexit 101\n' \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    added_policy=1
fi
cleanup() { [ -n "$added_policy" ] && "${SUDO[@]}" rm -f "$POLICY"; return 0; }
trap cleanup EXIT

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

# Stop services that the install started anyway (e.g. on systemd, where presets may start them).
for svc in "${SERVICES[@]}"; do
    if service_running "$svc" && [[ " ${running_before[*]} " != *" $svc "* ]]; then
        log "stopping $svc (started by the install)"
        if [ -d /run/systemd/system ]; then
            "${SUDO[@]}" systemctl stop "$svc" || true
        else
            "${SUDO[@]}" service "$svc" stop || true
        fi
    fi
done

for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || { log "still missing after install: $pkg" >&2; exit 1; }
done
log "done"
