#!/usr/bin/env bash
# Makes a Debian 13 (trixie) root with OpenSSL >= 3.5 for the SLH-DSA interop
# tests (tests/test_slh_dsa_openssl.py, tests/pki/test_slh_dsa_pki.py), which
# run `chroot ROOT openssl ...` and skip, saying why, when ROOT is absent.
# Idempotent: an existing root with a working openssl is left alone.
# Needs root (debootstrap, chroot) and a Debian mirror; takes a few minutes.
#
#   bash .ci/trixie-root.sh [ROOT]        (default: /opt/trixie-root, or $SV_TRIXIE_ROOT)
set -euo pipefail

root="${1:-${SV_TRIXIE_ROOT:-/opt/trixie-root}}"
mirror="${SV_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ -x "$root/usr/bin/openssl" ] && chroot "$root" openssl version >/dev/null 2>&1; then
    echo "trixie-root: $root already has $(chroot "$root" openssl version)"
    exit 0
fi
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase --include=openssl trixie "$root" "$mirror"
echo "trixie-root: made $root with $(chroot "$root" openssl version)"
