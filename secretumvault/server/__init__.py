"""A Vault-compatible HTTP server over the keystore, transit, PKI and kv engines.

``secretumvault server --dev`` or ``secretumvault server -c config.toml``
(see :mod:`.command`). Any Vault client (hvac, the ``vault`` CLI, Terraform)
speaks to it with Vault's paths, request and response shapes and status codes:

- ``sys/``: init, unseal, seal, seal-status, health, mounts, policies, audit;
- ``auth/token/``: create, lookup, renew, revoke;
- transit, PKI and kv v2 mounts, with the post-quantum key types of this library.

It needs the ``server`` extra (``pip install secretumvault[server]``:
Starlette and uvicorn); nothing here is imported by ``import secretumvault``.
"""
