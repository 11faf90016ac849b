"""Two server processes on one PostgreSQL store: keys made on one are used on the other,
and each process is sealed and unsealed on its own."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.keystore.conftest import pg_dsn
from tests.server.conftest import Server, start_server, write_config


@pytest.fixture
def schema_dsn() -> Iterator[str]:
    """The test server's DSN with a fresh schema of its own first on the search path."""
    import psycopg

    dsn = pg_dsn()
    schema = f"server_{uuid.uuid4().hex}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in dsn else "?"
    yield f"{dsn}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_two_servers_share_one_postgres_store(schema_dsn: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "server.toml", schema_dsn, postgres=True)
    first = start_server(["-c", str(config)], tmp_path / "first.log")
    second: Server | None = None
    try:
        second = start_server(["-c", str(config)], tmp_path / "second.log")
        init = first.client(token="").sys.initialize(secret_shares=3, secret_threshold=2)
        for key in init["keys"][:2]:
            first.client(token="").sys.submit_unseal_key(key)
        a, b = first.client(token=init["root_token"]), second.client(token=init["root_token"])
        assert a.sys.is_sealed() is False
        status = b.sys.read_seal_status()
        assert status["initialized"] is True and status["sealed"] is True  # unsealed on its own

        a.sys.enable_secrets_engine("transit", path="transit")
        a.adapter.post("/v1/transit/keys/shared", json={"type": "ml-dsa-65"})
        signature = a.secrets.transit.sign_data("shared", hash_input=b64(b"made on A"))["data"]["signature"]

        for key in init["keys"][1:]:
            b.sys.submit_unseal_key(key)
        assert b.sys.is_sealed() is False
        assert b.secrets.transit.verify_signed_data("shared", b64(b"made on A"), signature=signature)["data"][
            "valid"
        ]
        b.adapter.post("/v1/transit/keys/from-b", json={"type": "hybrid-x25519-ml-kem-768"})
        ciphertext = b.secrets.transit.encrypt_data("from-b", b64(b"made on B"))["data"]["ciphertext"]
        assert (
            base64.b64decode(a.secrets.transit.decrypt_data("from-b", ciphertext)["data"]["plaintext"])
            == b"made on B"
        )
        # A rotation on one process is seen by the other.
        a.secrets.transit.rotate_key("from-b")
        assert b.secrets.transit.encrypt_data("from-b", b64(b"x"))["data"]["ciphertext"].startswith(
            "vault:v2:"
        )

        a.sys.seal()
        assert first.request("GET", "transit/keys/shared", token=init["root_token"]).status_code == 503
        assert second.request("GET", "transit/keys/shared", token=init["root_token"]).status_code == 200
    finally:
        first.stop()
        if second is not None:
            second.stop()
