"""PKI engine: X.509 certificate authorities with ML-DSA (RFC 9881) and classical keys.

::

    from secretumvault.keystore import Keystore, open_storage
    from secretumvault.pki import PkiEngine, Role

    pki = PkiEngine(keystore)                       # an unsealed Keystore
    pki.create_root("root", common_name="Example Root", key_type="ML-DSA-65")
    pki.create_intermediate("int", issuer="root", common_name="Example Issuing CA")
    pki.put_role("web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True))
    leaf = pki.issue("web", "www.example.com")      # certificate, chain, private key (once)
    pki.revoke(leaf.serial_number)
    crl_pem = pki.crl("int")
    verify_chain([leaf.certificate, *leaf.ca_chain], pki.ca_certificate("root"))  # or raises

Key types: ML-DSA-44/65/87, Ed25519, ECDSA-P256, RSA-3072. ML-DSA keys live
on a :mod:`secretumvault.pqc` backend: a CA key on "oqs" signs with liboqs.
"""

from __future__ import annotations

from secretumvault.pki.engine import IssuedCertificate, PkiEngine
from secretumvault.pki.roles import ANY_KEY_TYPE, KEY_USAGES, Role
from secretumvault.pki.sig_algorithms import KEY_TYPES
from secretumvault.pki.verify import verify_chain

__all__ = [
    "ANY_KEY_TYPE",
    "KEY_TYPES",
    "KEY_USAGES",
    "IssuedCertificate",
    "PkiEngine",
    "Role",
    "verify_chain",
]
