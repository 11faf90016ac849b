"""The server's state in the keystore: tokens, policies, mounts, audit devices, seal and its records."""
