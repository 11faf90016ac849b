#!/usr/bin/env bash
# Make a throwaway SoftHSM2 token for the PKCS#11 seal tests.
#
#   .ci/softhsm.sh ENV_FILE    write to ENV_FILE (and print):
#       export SOFTHSM2_CONF=<dir>/softhsm2.conf        the token lives in <dir>/tokens
#       export SECRETUMVAULT_TEST_PKCS11_LIB=<path to libsofthsm2.so>
#       export SECRETUMVAULT_TEST_PKCS11_TOKEN=secretumvault-test
#       export SECRETUMVAULT_TEST_PKCS11_PIN=<random PIN>
#
# Run as root on Debian it installs the "softhsm2" package if it is missing; as another user
# without it, it says so and writes nothing, so the PKCS#11 tests skip with their reason.
set -euo pipefail
env_file="${1:?usage: $0 ENV_FILE}"

find_lib() {
    ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so \
        2>/dev/null | head -n 1
}

if ! command -v softhsm2-util >/dev/null 2>&1 || [ -z "$(find_lib)" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        # A fresh machine's package lists may be empty or old: refresh them first.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 >/dev/null
    else
        echo "softhsm.sh: softhsm2 is not installed and only root can install it; the PKCS#11 tests will skip" >&2
        exit 0
    fi
fi

dir=$(mktemp -d -t secretumvault-softhsm.XXXXXX)
mkdir -p "$dir/tokens"
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
pin=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
so_pin=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label secretumvault-test \
    --pin "$pin" --so-pin "$so_pin" >/dev/null

{
    echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
    echo "export SECRETUMVAULT_TEST_PKCS11_LIB=$(find_lib)"
    echo "export SECRETUMVAULT_TEST_PKCS11_TOKEN=secretumvault-test"
    echo "export SECRETUMVAULT_TEST_PKCS11_PIN=$pin"
} | tee "$env_file"
