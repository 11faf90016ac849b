"""Post-quantum transit and PKI through hvac, against `secretumvault server --dev`.

export VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=<the Root Token it printed>
python examples/hvac_quickstart.py
"""

import base64
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])

# ML-KEM-768 transit key (hvac's create_key only knows Vault's types, so post the request itself).
client.adapter.post("/v1/transit/keys/orders", json={"type": "ml-kem-768"})
plaintext = base64.b64encode(b"card 4111 1111 1111 1111").decode()
ciphertext = client.secrets.transit.encrypt_data("orders", plaintext)["data"]["ciphertext"]
decrypted = client.secrets.transit.decrypt_data("orders", ciphertext)["data"]["plaintext"]
assert base64.b64decode(decrypted) == b"card 4111 1111 1111 1111"

# ML-DSA-65 signatures (OpenBao's spelling works too: type "mldsa-65").
client.adapter.post("/v1/transit/keys/releases", json={"type": "ml-dsa-65"})
message = base64.b64encode(b"release 1.0").decode()
signature = client.secrets.transit.sign_data("releases", hash_input=message)["data"]["signature"]
assert client.secrets.transit.verify_signed_data("releases", message, signature=signature)["data"]["valid"]

# An ML-DSA certificate authority and a leaf certificate.
client.secrets.pki.generate_root(
    "internal", "Example Root", extra_params={"key_type": "mldsa", "key_bits": 65}
)
client.secrets.pki.create_or_update_role(
    "web", extra_params={"allowed_domains": "example.com", "allow_subdomains": True, "key_type": "mldsa"}
)
leaf = client.secrets.pki.generate_certificate("web", "www.example.com", extra_params={"ttl": "24h"})["data"]
print(ciphertext[:40] + "...", signature[:40] + "...", leaf["serial_number"], sep="\n")
