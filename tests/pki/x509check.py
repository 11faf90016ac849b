"""Independent checks of what the engine produced, with pyca/cryptography (and OpenSSL's CLI).

Nothing here uses secretumvault to verify: signatures are checked by
pyca/cryptography's own X.509 code where it supports the algorithm, and by
its own ML-DSA implementation (OpenSSL) over the exact TBS bytes where its
X.509 layer does not yet (cryptography < 50 has no ML-DSA in
``verify_directly_issued_by`` or ``is_signature_valid``).
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import verification

from secretumvault.pki import _der

ML_DSA_OIDS = {
    "ML-DSA-44": "2.16.840.1.101.3.4.3.17",
    "ML-DSA-65": "2.16.840.1.101.3.4.3.18",
    "ML-DSA-87": "2.16.840.1.101.3.4.3.19",
}
_ML_DSA_PUBLIC = (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)


def load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


@functools.cache
def x509_layer_supports_ml_dsa() -> bool:
    """Whether this pyca/cryptography verifies ML-DSA inside its X.509 layer (version 50 does)."""
    key = mldsa.MLDSA44PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "probe")])
    now = datetime.datetime.now(datetime.UTC)
    try:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        builder.sign(key, None).verify_directly_issued_by(builder.sign(key, None))
    except TypeError:
        return False
    return True


def keeps_seeds(backend: str) -> bool:
    """Whether ML-DSA keys made on ``backend`` keep their 32-byte seed (always on "openssl";
    on "oqs" where the native core binds mldsa-native's keygen from a seed)."""
    from secretumvault import pqc
    from secretumvault.errors import UnsupportedAlgorithm

    try:
        pqc.Signature("ML-DSA-44", backend=backend).generate_keypair().secret_key.seed_bytes()
    except UnsupportedAlgorithm:
        return False
    return True


def assert_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """``issuer`` signed ``cert``: names chain, algorithms agree, the signature verifies."""
    assert cert.issuer == issuer.subject
    issuer_key = issuer.public_key()
    if isinstance(issuer_key, _ML_DSA_PUBLIC):
        # RFC 9881: the signature algorithm is the issuer key's own OID, parameters absent.
        assert cert.signature_algorithm_oid.dotted_string == issuer.public_key_algorithm_oid.dotted_string
        assert cert.signature_algorithm_parameters is None
        if x509_layer_supports_ml_dsa():
            cert.verify_directly_issued_by(issuer)
        else:
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes)  # empty context
        return
    cert.verify_directly_issued_by(issuer)


def assert_crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> None:
    assert crl.issuer == issuer.subject
    issuer_key = issuer.public_key()
    if isinstance(issuer_key, _ML_DSA_PUBLIC) and not x509_layer_supports_ml_dsa():
        assert crl.signature_algorithm_oid.dotted_string == issuer.public_key_algorithm_oid.dotted_string
        issuer_key.verify(crl.signature, crl.tbs_certlist_bytes)
        return
    assert crl.is_signature_valid(cast(CertificateIssuerPublicKeyTypes, issuer_key))


def verify_server_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    root: x509.Certificate,
    name: str,
    at: datetime.datetime,
) -> list[x509.Certificate]:
    """RFC 5280 path validation with pyca/cryptography's web-PKI policy."""
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store([root]))
        .time(at)
        .build_server_verifier(x509.DNSName(name))
    )
    return verifier.verify(leaf, intermediates)


def ml_dsa_spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def algorithm_identifier(name: str) -> bytes:
    """The exact RFC 9881 AlgorithmIdentifier DER: the OID alone, parameters absent."""
    return _der.sequence(_der.oid(ML_DSA_OIDS[name]))


# -- OpenSSL's command line --------------------------------------------------------------------------


# OpenSSL >= 3.5 from a Debian 13 root (bash .ci/trixie-root.sh), run with the root's own loader and
# libraries, where the system's OpenSSL is older: 3.5 is the first that knows ML-DSA certificates.
_TRIXIE = Path(os.environ.get("SV_TRIXIE_ROOT", "/opt/trixie-root"))
_TRIXIE_LIBS = _TRIXIE / "usr" / "lib" / "x86_64-linux-gnu"


def _version(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    try:
        out = subprocess.run([*argv, "version"], capture_output=True, text=True, check=True, env=env).stdout
    except (OSError, subprocess.CalledProcessError):
        return (0, 0)
    match = re.match(r"OpenSSL (\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


@functools.cache
def _openssl(need_35: bool) -> tuple[list[str], dict[str, str] | None, tuple[int, int]]:
    """The openssl command to use, its environment, and its version: the system's, unless 3.5 is
    needed (ML-DSA, or a check run on both), the system's is older and the Debian 13 root's is there."""
    path = shutil.which("openssl")
    host = ([path], None, _version([path])) if path else ([], None, (0, 0))
    loader = _TRIXIE_LIBS / "ld-linux-x86-64.so.2"
    if not need_35 or host[2] >= (3, 5) or not loader.exists():
        return host
    argv = [str(loader), "--library-path", str(_TRIXIE_LIBS), str(_TRIXIE / "usr" / "bin" / "openssl")]
    env = {
        **os.environ,
        "OPENSSL_CONF": str(_TRIXIE / "usr" / "lib" / "ssl" / "openssl.cnf"),
        "OPENSSL_MODULES": str(_TRIXIE_LIBS / "ossl-modules"),
    }
    trixie = (argv, env, _version(argv, env))
    return trixie if trixie[2] >= (3, 5) else host


def require_openssl(ml_dsa: bool, newest: bool = False) -> list[str]:
    """The openssl command, or a skip saying why it cannot check these certificates.

    ``newest``: OpenSSL 3.5+ for a classical check too (the system's may be older), as ``ml_dsa``."""
    argv, _, version = _openssl(ml_dsa or newest)
    if version == (0, 0):
        pytest.skip("no openssl command on PATH")
    if (ml_dsa or newest) and version < (3, 5):
        why = "ML-DSA certificates need" if ml_dsa else "this check runs on"
        pytest.skip(
            f"openssl {version[0]}.{version[1]} on PATH and no Debian 13 root at {_TRIXIE} "
            f"(bash .ci/trixie-root.sh); {why} OpenSSL 3.5+"
        )
    return argv


def run_openssl(*args: str, ml_dsa: bool = False, newest: bool = False) -> subprocess.CompletedProcess[str]:
    argv, env, _ = _openssl(ml_dsa or newest)
    return subprocess.run([*argv, *args], capture_output=True, text=True, check=False, env=env)


def openssl_verify(
    tmp: Path,
    at: datetime.datetime,
    root_pem: str,
    untrusted: list[str],
    leaf_pem: str,
    crl_pem: str | None = None,
    extra: list[str] | None = None,
    ml_dsa: bool = False,
    newest: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``openssl verify`` of ``leaf_pem`` at the time ``at`` (the tests' clock, not the machine's)."""
    (tmp / "root.pem").write_text(root_pem)
    (tmp / "untrusted.pem").write_text("".join(untrusted))
    (tmp / "leaf.pem").write_text(leaf_pem)
    args = [
        "verify",
        "-x509_strict",
        "-attime",
        str(int(at.timestamp())),
        "-CAfile",
        str(tmp / "root.pem"),
    ]
    if untrusted:
        args += ["-untrusted", str(tmp / "untrusted.pem")]
    if crl_pem is not None:
        (tmp / "crl.pem").write_text(crl_pem)
        args += ["-crl_check", "-CRLfile", str(tmp / "crl.pem")]
    args += extra or []
    return run_openssl(*args, str(tmp / "leaf.pem"), ml_dsa=ml_dsa, newest=newest)
