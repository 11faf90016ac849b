"""Token trees under attack (issue 22, items 1-3): nobody escapes revocation through child tokens.

Vault revokes a token's whole tree when it expires or is revoked, refuses a
token whose ancestor is gone, and marks a token revocation-pending before it
walks its tree, so the token can mint nothing meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import Server, start_dev_server

MINTER = '{"path": {"auth/token/create": {"capabilities": ["update"]}}}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_dev_server(tmp_path_factory.mktemp("tree"))
    assert started.request("PUT", "sys/policies/acl/minter", json={"policy": MINTER}).ok
    yield started
    started.stop()


def _create(server: Server, parent: str, **fields: object) -> str:
    body = {"policies": ["minter"], **fields}
    created = server.request("POST", "auth/token/create", token=parent, json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["auth"]["client_token"])


def _alive(server: Server, token: str) -> bool:
    status = server.request("GET", "auth/token/lookup-self", token=token).status_code
    assert status in (200, 403)
    return status == 200


def test_children_of_an_expired_parent_are_refused_without_the_parent_being_used(server: Server) -> None:
    parent = _create(server, "root", ttl="2s")
    child = _create(server, parent, ttl="1h")
    grandchild = _create(server, child, ttl="1h")
    expires = time.monotonic() + 2
    assert _alive(server, child) and _alive(server, grandchild)
    time.sleep(max(0.0, expires - time.monotonic()) + 1.1)  # past the parent's expiry (whole seconds)
    # The parent is never touched: its children must be refused all the same.
    assert not _alive(server, grandchild)
    assert not _alive(server, child)
    assert not _alive(server, parent)
    looked_up = server.request("POST", "auth/token/lookup", json={"token": child})
    assert looked_up.status_code == 403  # Vault's "bad token"


def test_a_revoked_parent_takes_every_descendant_with_it(server: Server) -> None:
    parent = _create(server, "root", ttl="1h")
    chain = [parent]
    for _ in range(5):
        chain.append(_create(server, chain[-1], ttl="1h"))
    assert all(_alive(server, token) for token in chain)
    assert server.request("POST", "auth/token/revoke", json={"token": parent}).status_code == 204
    assert not any(_alive(server, token) for token in chain)


def test_an_expiring_root_token_cannot_mint_a_non_expiring_root_token(server: Server) -> None:
    expiring_root = server.request(
        "POST", "auth/token/create", json={"policies": ["root"], "ttl": "1h"}
    ).json()["auth"]["client_token"]
    refused = server.request("POST", "auth/token/create", token=expiring_root, json={"policies": ["root"]})
    assert refused.status_code == 400
    assert refused.json()["errors"] == ["expiring root tokens cannot create non-expiring root tokens"]
    orphan = server.request(
        "POST", "auth/token/create-orphan", token=expiring_root, json={"policies": ["root"], "ttl": "0"}
    )
    assert orphan.status_code == 400
    # With a ttl of its own it may; the non-expiring root token may make a non-expiring one.
    bounded = server.request(
        "POST", "auth/token/create", token=expiring_root, json={"policies": ["root"], "ttl": "10m"}
    )
    assert bounded.status_code == 200
    assert bounded.json()["auth"]["lease_duration"] > 0
    forever = server.request("POST", "auth/token/create", json={"policies": ["root"]})
    assert forever.status_code == 200 and forever.json()["auth"]["lease_duration"] == 0


def test_children_minted_while_their_parent_is_revoked_do_not_survive(server: Server) -> None:
    parent = _create(server, "root", ttl="1h")
    for _ in range(150):  # a tree wide enough that its revocation takes a while
        _create(server, parent, ttl="1h")
    minted: list[str] = []
    stop = threading.Event()

    def mint() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            created = server.request("POST", "auth/token/create", token=parent, json={"policies": ["minter"]})
            if created.status_code == 200:
                minted.append(created.json()["auth"]["client_token"])
            elif created.status_code == 403:
                return  # refused: the parent is being revoked, or is gone
            else:
                raise AssertionError(created.text)

    minters = [threading.Thread(target=mint) for _ in range(3)]
    for thread in minters:
        thread.start()
    time.sleep(0.3)  # the minters are running
    revoked = server.request("POST", "auth/token/revoke", json={"token": parent})
    stop.set()
    for thread in minters:
        thread.join(timeout=90)
    assert revoked.status_code == 204
    assert minted, "the minters made no child before the revocation: the test proved nothing"
    survivors = [token for token in minted if _alive(server, token)]
    assert survivors == []
    assert not _alive(server, parent)


def test_token_trees_have_a_depth_limit(server: Server, tmp_path: Path) -> None:
    from secretumvault.server.state.tokens import MAX_TREE_DEPTH

    token = _create(server, "root", ttl="1h")
    for _ in range(MAX_TREE_DEPTH - 1):
        token = _create(server, token, ttl="1h")
    refused = server.request("POST", "auth/token/create", token=token, json={"policies": ["minter"]})
    assert refused.status_code == 400
    assert "levels deep" in refused.json()["errors"][0]
    assert _alive(server, token)
