"""The server's routes: Vault's HTTP paths onto the engines and the server's state, one module an area."""
