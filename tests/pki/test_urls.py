"""config/urls: AIA (caIssuers, OCSP) and CRL distribution points written into issued certificates."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from secretumvault.errors import InvalidArgument, InvalidType
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .helpers import snapshot
from .x509check import load

BASE = "http://pki.example.com/v1/pki"


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.set_urls(
        issuing_certificates=[BASE + "/issuer/{{issuer_id}}/der"],
        crl_distribution_points=[BASE + "/issuer/{{issuer_id}}/crl/der", "ldap://ldap.example.com/cn=crl"],
        ocsp_servers=[BASE + "/ocsp"],
    )
    engine.create_intermediate("int", issuer="root", common_name="Issuing", ttl=datetime.timedelta(days=90))
    engine.put_role("web", Role(issuer="int", allow_any_name=True))
    return engine


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str], list[str]]:
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert not aia.critical and not cdp.critical
    ocsp = [
        d.access_location.value for d in aia.value if d.access_method == AuthorityInformationAccessOID.OCSP
    ]
    issuers = [
        d.access_location.value
        for d in aia.value
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    ]
    crls = [name.value for point in cdp.value for name in point.full_name or ()]
    return issuers, crls, ocsp


def test_urls_are_written_into_issued_certificates(ready: PkiEngine) -> None:
    leaf = load(ready.issue("web", "www.example.com").certificate)
    assert _urls(leaf) == (
        [BASE + "/issuer/int/der"],
        [BASE + "/issuer/int/crl/der", "ldap://ldap.example.com/cn=crl"],
        [BASE + "/ocsp"],
    )
    # The intermediate, signed by the root after the setting, names the root's.
    assert _urls(load(ready.ca_certificate("int")))[0] == [BASE + "/issuer/root/der"]
    # A root names nobody above it.
    with pytest.raises(x509.ExtensionNotFound):
        load(ready.ca_certificate("root")).extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    issued = ready.issue("web", "www.example.com")
    verify_chain(
        [issued.certificate, issued.issuing_ca], issued.ca_chain[-1], at=START + datetime.timedelta(hours=1)
    )


def test_get_and_clear(ready: PkiEngine) -> None:
    assert ready.get_urls().ocsp_servers == (BASE + "/ocsp",)
    ready.set_urls()
    leaf = load(ready.issue("web", "www.example.com").certificate)
    for kind in (x509.AuthorityInformationAccess, x509.CRLDistributionPoints):
        with pytest.raises(x509.ExtensionNotFound):
            leaf.extensions.get_extension_for_class(kind)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ocsp_servers": ["ocsp.example.com"]}, InvalidArgument, "not an absolute URI"),
        ({"ocsp_servers": ["urn:ocsp"]}, InvalidArgument, "no host"),
        ({"issuing_certificates": ["http://a b/"]}, InvalidArgument, "not a URI"),
        ({"crl_distribution_points": "http://x/crl"}, InvalidType, "sequence"),
        ({"crl_distribution_points": [b"http://x/crl"]}, InvalidType, "str"),
        ({"ocsp_servers": ["http://o.example/"] * 17}, InvalidArgument, "at most 16"),
        ({"delta_crl_distribution_points": ["delta.example/crl"]}, InvalidArgument, "not an absolute URI"),
        ({"delta_crl_distribution_points": "http://x/delta"}, InvalidType, "delta_crl_distribution_points"),
    ],
)
def test_bad_urls_are_refused(
    ready: PkiEngine, storage: SQLiteStorage, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        ready.set_urls(**kwargs)
    assert snapshot(storage) == before


def test_delta_crl_urls_become_freshest_crl(ready: PkiEngine) -> None:
    ready.set_urls(delta_crl_distribution_points=[BASE + "/issuer/{{issuer_id}}/crl/delta/der"])
    leaf = load(ready.issue("web", "www.example.com").certificate)
    freshest = leaf.extensions.get_extension_for_class(x509.FreshestCRL)
    assert not freshest.critical  # RFC 5280 4.2.1.15
    assert [n.value for p in freshest.value for n in p.full_name or ()] == [
        BASE + "/issuer/int/crl/delta/der"
    ]
    # Set alone, the field leaves the others empty (as every field of set_urls).
    assert ready.get_urls().crl_distribution_points == ()


def test_urls_records_of_earlier_releases_have_no_delta_urls(ready: PkiEngine, keystore: Keystore) -> None:
    raw = json.loads(keystore.get("pki/config/urls"))
    del raw["delta_crl_distribution_points"]
    keystore.put("pki/config/urls", json.dumps(raw).encode())
    urls = ready.get_urls()
    assert urls.delta_crl_distribution_points == () and urls.ocsp_servers == (BASE + "/ocsp",)
