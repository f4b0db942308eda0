#!/usr/bin/env bash
# Builds warden_<version>_<arch>.deb with dpkg-deb from a release binary: /usr/bin/warden, the
# hardened systemd unit (packaging/deb/warden.service), the example config installed as
# /etc/warden/sentinel.conf on first install, /usr/lib/warden/redis-sentinel (a symlink to run it
# under redis-sentinel's name, Redis's command-line forms included) and the docs.
#
# usage: scripts/build-deb.sh [--binary PATH] [--out DIR]
#   --binary  the warden binary to package (default: build target/release/warden with cargo)
#   --out     where the .deb goes (default: <target>/deb); its path is printed on the last line
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
BINARY=""
OUT="$(target_dir "$ROOT")/deb"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BINARY=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--out DIR]" >&2; exit 2 ;;
    esac
done
if [ -z "$BINARY" ]; then
    ensure_cargo
    (cd "$ROOT" && cargo build --release -p warden >&2)
    BINARY="$(target_dir "$ROOT")/release/warden"
fi
VERSION=$("$BINARY" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
NAME="warden_${VERSION}_${ARCH}"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/$NAME"

install -D -m 0755 "$BINARY" "$PKG/usr/bin/warden"
strip --strip-unneeded "$PKG/usr/bin/warden" 2>/dev/null || true
install -d "$PKG/usr/lib/warden"
ln -s /usr/bin/warden "$PKG/usr/lib/warden/redis-sentinel"
install -D -m 0644 "$ROOT/packaging/deb/warden.service" "$PKG/lib/systemd/system/warden.service"
install -D -m 0644 "$ROOT/packaging/deb/sentinel.conf" "$PKG/usr/share/warden/sentinel.conf"
for doc in README.md docs/operations.md docs/vip.md docs/compatibility.md; do
    install -D -m 0644 "$ROOT/$doc" "$PKG/usr/share/doc/warden/$(basename "$doc")"
done
cat > "$PKG/usr/share/doc/warden/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: warden
License: BSD-3-Clause
COPYRIGHT
install -d "$PKG/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$ROOT/packaging/deb/$script" "$PKG/DEBIAN/$script"
done
SIZE=$(du -sk "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: warden
Version: $VERSION
Architecture: $ARCH
Maintainer: Warden developers <warden@localhost>
Installed-Size: $SIZE
Depends: libc6 (>= 2.34), libssl3, adduser
Section: database
Priority: optional
Description: Redis Sentinel drop-in that also owns the service's virtual IP
 Warden watches Redis masters, agrees with its peers that one is down, elects a
 leader, promotes the best replica, and moves the virtual IP to the new master's
 host. It reads and rewrites redis-sentinel's sentinel.conf and answers the same
 commands, so existing clients and tools keep working.
CONTROL
mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$PKG" "$OUT/$NAME.deb" >&2
echo "$OUT/$NAME.deb"
