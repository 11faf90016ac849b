#!/usr/bin/env bash
# Run hvac's own integration tests against `secretumvault server` (not part of .ci/run: it needs
# a checkout of hvac's repository, which this project does not ship or fetch).
#
#   .ci/hvac-suite.sh HVAC_CHECKOUT [pytest arguments...]
#
# hvac's tests start "vault server -config=X" and read "vault -version"; a stand-in `vault` on
# PATH starts this server instead, with the listener address and TLS files of X, on a fresh
# SQLite store. The tests then initialise and unseal it through the API as they would Vault.
# Without pytest arguments, the suites of what this server serves run (transit, kv v1 and v2,
# pki, token, approle, userpass, sys). docs/testing.md lists the tests expected to fail, and why.
set -euo pipefail

HVAC=$(cd "${1:?usage: $0 HVAC_CHECKOUT [pytest arguments...]}" && pwd)
shift
PYTHON=${SECRETUMVAULT_PYTHON:-$(dirname "$0")/../.venv/bin/python}
PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")  # absolute, but still the venv's
(cd / && "$PYTHON" -c "import secretumvault.server") || { echo "hvac-suite: no server in $PYTHON" >&2; exit 1; }

work=$(mktemp -d /tmp/hvac-suite.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pyhcl parameterized pytest requests packaging

mkdir "$work/bin"
cat >"$work/bin/vault" <<EOF
#!$PYTHON
import json, os, sys, tempfile

args = sys.argv[1:]
if not args or args[0] in ("-version", "--version", "version"):
    print("Vault v" + os.environ.get("HVAC_SUITE_VAULT_VERSION", "1.15.0") + " (secretumvault)")
    sys.exit(0)
if args[:2] == ["operator", "generate-root"] and "-decode" in args:
    from secretumvault.server.state.generate_root import decode_token

    print(decode_token(args[args.index("-decode") + 1], args[args.index("-otp") + 1]))
    sys.exit(0)
if args[0] != "server":
    sys.exit("stand-in vault: only server, -version and generate-root -decode: " + " ".join(args))
with open(next(a.split("=", 1)[1] for a in args if a.startswith("-config="))) as f:
    listener = json.load(f)["listener"]
tcp = (listener[0] if isinstance(listener, list) else listener)["tcp"]
store = tempfile.mkdtemp(dir="$work")
lines = ["[server]", 'address = "%s"' % tcp["address"]]
if tcp.get("tls_cert_file"):
    lines += ['tls_cert_file = "%s"' % os.path.abspath(tcp["tls_cert_file"]),
              'tls_key_file = "%s"' % os.path.abspath(tcp["tls_key_file"])]
lines += ["[storage]", 'backend = "sqlite"', 'path = "%s/vault.db"' % store]
with open(store + "/server.toml", "w") as f:
    f.write("\n".join(lines) + "\n")
os.execv(sys.executable, [sys.executable, "-m", "secretumvault", "server", "-c", store + "/server.toml"])
EOF
chmod +x "$work/bin/vault"

if [ "$#" -eq 0 ]; then
    set -- tests/integration_tests/api/secrets_engines/test_transit.py \
        tests/integration_tests/api/secrets_engines/test_kv_v1.py \
        tests/integration_tests/api/secrets_engines/test_kv_v2.py \
        tests/integration_tests/api/secrets_engines/test_pki.py \
        tests/integration_tests/api/auth_methods/test_token.py \
        tests/integration_tests/api/auth_methods/test_approle.py \
        tests/integration_tests/api/system_backend/ tests/integration_tests/v1/
fi
cd "$HVAC"
PATH="$work/bin:$PATH" PYTHONPATH="$HVAC" "$work/venv/bin/python" -m pytest -o addopts="" \
    -p no:cacheprovider -q -rfE "$@"
