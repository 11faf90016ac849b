"""PKI engine: X.509 certificate authorities with ML-DSA (RFC 9881) and classical keys.

::

    from secretumvault.keystore import Keystore, open_storage
    from secretumvault.pki import PkiEngine, Role

    pki = PkiEngine(keystore)                       # an unsealed Keystore
    pki.create_root("root", common_name="Example Root", key_type="ML-DSA-65")
    pki.create_intermediate("int", issuer="root", common_name="Example Issuing CA",
                            permitted_dns_domains=["example.com"])
    pki.set_urls(ocsp_servers=["http://pki.example.com/ocsp"],
                 crl_distribution_points=["http://pki.example.com/{{issuer_id}}/crl"])
    pki.put_role("web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True,
                             allow_ip_sans=True, allowed_uri_sans=("spiffe://example.com/*",)))
    leaf = pki.issue("web", "www.example.com", ip_sans=["10.0.0.7"])   # certificate, chain, key (once)
    pki.revoke(leaf.serial_number)                  # re-signs the CA's CRL
    crl_pem = pki.crl("int")                        # the stored CRL, until it expires
    ocsp_der = pki.ocsp(request_der)                # good / revoked / unknown, signed by the CA
    verify_chain([leaf.certificate, *leaf.ca_chain], pki.ca_certificate("root"),
                 server_name="www.example.com", crls=[pki.crl("root"), crl_pem])  # or raises

Key types: ML-DSA-44/65/87, Ed25519, ECDSA-P256/P384, RSA-2048/3072/4096.
ML-DSA keys live on a :mod:`secretumvault.pqc` backend: a CA key on "oqs"
signs with liboqs. Path validation is pyca/cryptography's.
"""

from __future__ import annotations

from secretumvault.pki.engine import IssuedCertificate, PkiEngine
from secretumvault.pki.roles import ANY_KEY_TYPE, KEY_USAGES, Role
from secretumvault.pki.settings import CrlSettings, DistributionUrls
from secretumvault.pki.sig_algorithms import KEY_TYPES
from secretumvault.pki.usages import EXT_KEY_USAGES
from secretumvault.pki.verify import verify_chain

__all__ = [
    "ANY_KEY_TYPE",
    "EXT_KEY_USAGES",
    "KEY_TYPES",
    "KEY_USAGES",
    "CrlSettings",
    "DistributionUrls",
    "IssuedCertificate",
    "PkiEngine",
    "Role",
    "verify_chain",
]
