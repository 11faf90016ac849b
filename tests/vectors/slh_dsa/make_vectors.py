"""Makes openssl_3_5.json: SLH-DSA known answers from OpenSSL >= 3.5, a second implementation.

Run as root on a machine with a Debian 13 root (bash .ci/trixie-root.sh):

    python3 tests/vectors/slh_dsa/make_vectors.py [/opt/trixie-root]

Only OpenSSL makes the answers: this script draws seeds, messages and contexts
from os.urandom, and runs, in the root,

    openssl genpkey -algorithm SET -pkeyopt hexseed:SEED -out key.pem
    openssl pkey -in key.pem -outform DER -out key.der          (and -pubout for the public key)
    openssl pkeyutl -sign -rawin -inkey key.pem -in msg -pkeyopt deterministic:1 \\
        -pkeyopt hexcontext-string:CTX -out sig                 (deterministic: opt_rand = PK.seed)
    openssl pkeyutl -sign -rawin -inkey key.pem -in msg -pkeyopt hexcontext-string:CTX -out sig

(pkeyutl cannot sign an empty message: "Could not allocate 0 bytes"; messages are 1 and 33 bytes.)

and records what comes out. It imports nothing from secretumvault.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SETS = [
    f"SLH-DSA-{f}-{level}"
    for f in ("SHA2", "SHAKE")
    for level in ("128s", "128f", "192s", "192f", "256s", "256f")
]
N = {"128": 16, "192": 24, "256": 32}
# Full deterministic signatures for these; the others record the signature's SHA-256 (the JSON
# stays small; comparing digests is as strict as comparing bytes).
FULL = {"SLH-DSA-SHA2-128s", "SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128s", "SLH-DSA-SHAKE-128f"}


def openssl(root: Path, *args: str) -> str:
    done = subprocess.run(["chroot", str(root), "openssl", *args], capture_output=True, text=True, check=True)
    return done.stdout


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/opt/trixie-root")
    version = openssl(root, "version").strip()
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=root / "tmp") as tmp:
        inside = "/tmp/" + Path(tmp).name
        for name in SETS:
            n = N[name.rsplit("-", 1)[1][:3]]
            for index, (msg_len, ctx_len) in enumerate(((1, 0), (33, 7))):
                seed, msg, ctx = os.urandom(3 * n), os.urandom(msg_len), os.urandom(ctx_len)
                Path(tmp, "msg").write_bytes(msg)
                openssl(
                    root,
                    "genpkey",
                    "-algorithm",
                    name,
                    "-pkeyopt",
                    f"hexseed:{seed.hex()}",
                    "-out",
                    f"{inside}/key.pem",
                )
                openssl(
                    root, "pkey", "-in", f"{inside}/key.pem", "-outform", "DER", "-out", f"{inside}/sk.der"
                )
                openssl(
                    root,
                    "pkey",
                    "-in",
                    f"{inside}/key.pem",
                    "-pubout",
                    "-outform",
                    "DER",
                    "-out",
                    f"{inside}/pk.der",
                )
                sign = ["pkeyutl", "-sign", "-rawin", "-inkey", f"{inside}/key.pem", "-in", f"{inside}/msg"]
                if ctx:
                    sign += ["-pkeyopt", f"hexcontext-string:{ctx.hex()}"]
                openssl(root, *sign, "-pkeyopt", "deterministic:1", "-out", f"{inside}/det.sig")
                openssl(root, *sign, "-out", f"{inside}/rnd.sig")
                det, rnd = Path(tmp, "det.sig").read_bytes(), Path(tmp, "rnd.sig").read_bytes()
                case: dict[str, Any] = {
                    "parameter_set": name,
                    "seed": seed.hex(),
                    "public_key_spki_der": Path(tmp, "pk.der").read_bytes().hex(),
                    "secret_key_pkcs8_der": Path(tmp, "sk.der").read_bytes().hex(),
                    "message": msg.hex(),
                    "context": ctx.hex(),
                    "deterministic_signature_sha256": hashlib.sha256(det).hexdigest(),
                }
                if name in FULL:
                    case["deterministic_signature"] = det.hex()
                if index == 0:  # one randomized signature per set, for our verify
                    case["randomized_signature"] = rnd.hex()
                cases.append(case)
    out = {
        "source": "made here with " + version + " in a Debian 13 root; see README.md and make_vectors.py",
        "cases": cases,
    }
    Path(__file__).with_name("openssl_3_5.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
