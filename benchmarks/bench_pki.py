"""PKI engine: issue a leaf, and verify a 3-certificate chain, per backend.

    pytest benchmarks/bench_pki.py --benchmark-only

* ``issue``: ``PkiEngine.issue`` end to end with an ML-DSA-65 CA and an
  ML-DSA-65 leaf key: key generation, certificate assembly, the CA's
  signature and its self-check, and the SQLite write (synchronous=FULL,
  so an fsync) of the certificate record.
* ``build_and_sign``: the same certificate without key generation or storage.
* ``verify_chain``: leaf -> intermediate -> root, RFC 5280 path validation
  by pyca/cryptography (OpenSSL's ML-DSA), whichever backend made the keys.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretumvault import pqc
from secretumvault.keystore import Keystore, ScryptParams, open_storage
from secretumvault.pki import PkiEngine, Role, verify_chain
from secretumvault.pki.builders import CertificateFields, build_certificate
from secretumvault.pki.keys import generate_key
from secretumvault.pki.profiles import LeafContents, leaf_extensions

BACKENDS = pqc.available_backends()
ROLE = Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True, key_type="ML-DSA-65")


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PkiEngine]:
    storage = open_storage(path=tmp_path / "bench.db")
    ks = Keystore(storage)
    ks.initialize_with_passphrase("bench", scrypt=ScryptParams(n=2**14, r=8, p=1))
    ks.unseal("bench")
    pki = PkiEngine(ks, backend=request.param)
    pki.create_root("root", common_name="Bench Root", key_type="ML-DSA-65")
    pki.create_intermediate(
        "int",
        issuer="root",
        common_name="Bench Issuing",
        key_type="ML-DSA-65",
        ttl=datetime.timedelta(days=365),
    )
    pki.put_role("web", ROLE)
    yield pki
    storage.close()


def test_issue_ml_dsa_65_leaf(benchmark: Any, engine: PkiEngine) -> None:
    benchmark.group = "pki issue (ML-DSA-65 CA, ML-DSA-65 leaf)"
    benchmark.extra_info["backend"] = engine._backend
    issued = benchmark(engine.issue, "web", "www.example.com")
    verify_chain([issued.certificate, *issued.ca_chain], issued.ca_chain[-1])


def test_build_and_sign_certificate(benchmark: Any, engine: PkiEngine) -> None:
    benchmark.group = "pki build+sign (no keygen, no storage)"
    benchmark.extra_info["backend"] = engine._backend
    ca = engine._active_ca("int")
    subject_key = generate_key("ML-DSA-65", engine._backend).public_key
    contents = LeafContents(dns_names=("www.example.com",), ext_key_usage=ROLE.eku_oids())
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    fields = CertificateFields(
        serial_number=12345,
        issuer=ca.certificate.subject,
        subject=ca.certificate.subject,
        not_before=now,
        not_after=now + datetime.timedelta(days=1),
        subject_public_key=subject_key,
        extensions=leaf_extensions(contents, subject_key, ca.key_id),
    )
    benchmark(build_certificate, fields, ca.key)


def test_verify_three_certificate_chain(benchmark: Any, engine: PkiEngine) -> None:
    benchmark.group = "pki verify 3-certificate ML-DSA-65 chain"
    benchmark.extra_info["backend"] = engine._backend
    issued = engine.issue("web", "www.example.com")
    chain = [issued.certificate, *issued.ca_chain]
    benchmark(verify_chain, chain, issued.ca_chain[-1])
