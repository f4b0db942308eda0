#!/usr/bin/env bash
# Redis 7.0.15's Sentinel test suite in its TLS mode (`runtest-sentinel --tls`) against a sentinel
# binary: every instance, sentinel and test client then speaks TLS only (tls-port, tls-replication,
# client certificates). The suite expects the certificates Redis's utils/gen-test-certs.sh makes in
# tests/tls, which the shared runner does not provide, so this script sets the suite up the
# same way (copy, binary symlinks, loopback-only dummy master) plus those certificates.
#
# usage: scripts/upstream-tls.sh SUITE_DIR SENTINEL_BINARY [runtest-sentinel args...]
#   SUITE_DIR  the vendored suite (../shared/conformance/redis-7.0.15)
# env: WORKDIR (scratch dir, wiped and recreated; default a new mktemp -d), REDIS_SERVER.
# Needs tcl, tcl-tls, openssl, redis-server, redis-cli. Prints the shared runner's summary line.
set -u
SUITE=$(cd "${1:?suite dir}" && pwd)
SENTINEL_BIN=$(readlink -f "${2:?sentinel binary}")
shift 2
SERVER_BIN=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
WORKDIR=${WORKDIR:-$(mktemp -d /tmp/upstream-sentinel-tls.XXXXXX)}
for tool in tclsh openssl redis-cli; do
    command -v "$tool" >/dev/null || { echo "$tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
echo 'package require tls' | tclsh >/dev/null 2>&1 \
    || { echo "the Tcl tls package is missing (apt-get install -y tcl-tls)" >&2; exit 2; }

rm -rf "$WORKDIR"; mkdir -p "$WORKDIR"
cp -r "$SUITE/." "$WORKDIR/" || exit 2
mkdir -p "$WORKDIR/src" "$WORKDIR/tests/sentinel/tmp" "$WORKDIR/tests/tls"
ln -s "$SERVER_BIN" "$WORKDIR/src/redis-server"
ln -s "$SENTINEL_BIN" "$WORKDIR/src/redis-sentinel"
ln -s "$(command -v redis-cli)" "$WORKDIR/src/redis-cli"
sed -i 's/^sentinel monitor setmaster 10\.0\.0\.1 30000 2$/sentinel monitor setmaster 127.0.0.1 1 2/' \
    "$WORKDIR/tests/sentinel/tests/includes/sentinel.conf"

# The file set of gen-test-certs.sh: a CA, server-only and client-only certificates, DH params.
TLS=$WORKDIR/tests/tls
certs() {
    openssl req -x509 -new -nodes -sha256 -newkey rsa:2048 -keyout "$TLS/ca.key" -days 2 \
        -subj '/O=Redis Test/CN=Certificate Authority' -out "$TLS/ca.crt" &&
    printf '[server_cert]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = server\n[client_cert]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = client\n' \
        > "$TLS/openssl.cnf" &&
    for name in server client; do
        openssl req -new -nodes -sha256 -newkey rsa:2048 -keyout "$TLS/$name.key" \
            -subj "/O=Redis Test/CN=$name" -out "$TLS/$name.csr" &&
        openssl x509 -req -sha256 -in "$TLS/$name.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" \
            -CAcreateserial -days 2 -extfile "$TLS/openssl.cnf" -extensions "${name}_cert" \
            -out "$TLS/$name.crt" || return 1
    done &&
    openssl genpkey -genparam -algorithm DH -pkeyopt dh_param:ffdhe2048 -out "$TLS/redis.dh"
}
certs >"$TLS/gen.log" 2>&1 || { cat "$TLS/gen.log" >&2; exit 2; }

cd "$WORKDIR" || exit 2
LOG="$WORKDIR/run.log"
echo "sentinel binary: $SENTINEL_BIN"; echo "suite: redis 7.0.15 tests/sentinel --tls"; echo "log: $LOG"
start=$(date +%s)
./runtest-sentinel --tls "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
clean=$(sed 's/\x1b\[[0-9;]*m//g' "$LOG")
ok=$(printf '%s\n' "$clean" | grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}> .*: OK$')
failed=$(printf '%s\n' "$clean" | grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}> .*: FAILED')
errors=$(printf '%s\n' "$clean" | grep -c '^FAILED: caught an error')
echo "================================================================"
printf '%s\n' "$clean" | grep -E 'FAILED|caught an error' | sed 's/^/  /'
echo "units: $(printf '%s\n' "$clean" | grep -c '^Testing unit:')"
echo "upstream sentinel tests: ok=$ok failed=$failed unit_errors=$errors rc=$rc seconds=$(($(date +%s) - start))"
exit "$rc"
