"""The token and policy cache (server/state/fresh.py), in process: two ServerCores on one store
stand for two server processes (each has its own connection, as a process would)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretumvault.errors import SealedError
from secretumvault.keystore import Keystore, open_storage
from secretumvault.server.state.core import ServerCore
from secretumvault.server.state.fresh import FreshRecords
from secretumvault.server.state.policy import parse_policy
from secretumvault.server.state.tokens import TokenStore, token_hash
from tests.keystore.conftest import storage_spec, unsealed_keystore  # noqa: F401 (fixture)

ENCRYPT_ONLY = '{"path": {"transit/encrypt/*": {"capabilities": ["update"]}}}'
READ_ONLY = '{"path": {"transit/keys/*": {"capabilities": ["read"]}}}'


def _core(spec: dict[str, Any]) -> ServerCore:
    return ServerCore(open_storage(**spec))


@pytest.fixture
def cores(storage_spec: dict[str, Any]) -> Iterator[tuple[ServerCore, ServerCore]]:  # noqa: F811
    first, second = _core(storage_spec), _core(storage_spec)
    init = first.initialize(1, 1)
    for core in (first, second):
        core.unseal(init["keys"][0])
        assert not core.sealed
    yield first, second
    for core in (first, second):
        core.close()


def _child(core: ServerCore, policies: tuple[str, ...], ttl: int = 3600) -> str:
    token, _ = core.tokens.create(policies=policies, ttl=ttl, renewable=True, display_name="t", parent=None)
    return token


def test_a_revocation_by_another_process_is_seen_by_the_next_lookup(
    cores: tuple[ServerCore, ServerCore],
) -> None:
    a, b = cores
    token = _child(a, ("default",))
    for _ in range(3):  # the first read fills the cache, the next ones come from it
        assert b.authenticate(token).policies == ("default",)
    assert len(b.tokens.cache) == 1
    entry = a.tokens.lookup(token)
    assert entry is not None
    a.tokens.revoke(entry)
    assert b.tokens.lookup(token) is None
    assert len(b.tokens.cache) == 0


def test_a_renewal_by_another_process_is_seen(cores: tuple[ServerCore, ServerCore]) -> None:
    a, b = cores
    token = _child(a, ("default",), ttl=60)
    before = b.tokens.lookup(token)
    assert before is not None and before.expire_time is not None
    entry = a.tokens.lookup(token)
    assert entry is not None
    renewed = a.tokens.renew(entry, 7200)
    assert renewed.expire_time is not None and renewed.expire_time > before.expire_time
    after = b.tokens.lookup(token)
    assert after is not None and after.expire_time == renewed.expire_time


def test_a_policy_change_by_another_process_applies_to_the_next_request(
    cores: tuple[ServerCore, ServerCore],
) -> None:
    a, b = cores
    a.write_policy("app", ENCRYPT_ONLY)
    token = _child(a, ("app",))
    for _ in range(2):
        acl = b.acl(b.authenticate(token))
        assert acl.allows("transit/encrypt/k", "update")
        assert not acl.allows("transit/keys/k", "read")
    a.write_policy("app", READ_ONLY)
    acl = b.acl(b.authenticate(token))
    assert not acl.allows("transit/encrypt/k", "update")
    assert acl.allows("transit/keys/k", "read")
    a.delete_policy("app")
    acl = b.acl(b.authenticate(token))
    assert not acl.allows("transit/keys/k", "read")  # an unknown policy grants nothing


def test_own_writes_are_seen_at_once(cores: tuple[ServerCore, ServerCore]) -> None:
    a, _ = cores
    a.write_policy("app", ENCRYPT_ONLY)
    assert a.policy_rules("app") == parse_policy(ENCRYPT_ONLY)
    a.write_policy("app", READ_ONLY)
    assert a.policy_rules("app") == parse_policy(READ_ONLY)
    token = _child(a, ("app",))
    entry = a.tokens.lookup(token)
    assert entry is not None
    a.tokens.revoke(entry)
    assert a.tokens.lookup(token) is None


def test_sealing_empties_the_caches(cores: tuple[ServerCore, ServerCore]) -> None:
    a, _ = cores
    a.write_policy("app", ENCRYPT_ONLY)
    token = _child(a, ("app",))
    a.acl(a.authenticate(token))
    assert len(a.tokens.cache) == 1 and a.policy_rules("app")
    a.seal()
    assert len(a.tokens.cache) == 0
    assert a._policies.paths() == []
    with pytest.raises(SealedError):
        a.tokens.lookup(token)


def test_a_keystore_seal_alone_empties_the_cache(cores: tuple[ServerCore, ServerCore]) -> None:
    a, _ = cores
    token = _child(a, ("default",))
    assert a.tokens.lookup(token) is not None
    a.keystore.seal()  # not through ServerCore.seal: the seal listener does it
    assert len(a.tokens.cache) == 0


def test_expiry_is_checked_on_every_lookup_of_a_cached_token(tmp_path: Path) -> None:
    now = [1_000_000.0]
    storage = open_storage(backend="sqlite", path=str(tmp_path / "vault.db"))
    keystore = unsealed_keystore(storage)
    tokens = TokenStore(keystore, clock=lambda: now[0])
    token, entry = tokens.create(
        policies=("default",), ttl=60, renewable=False, display_name="t", parent=None
    )
    assert tokens.lookup(token) == entry
    now[0] += 59
    assert tokens.lookup(token) == entry  # from the cache: nothing changed in the store
    assert len(tokens.cache) == 1
    now[0] += 1
    assert tokens.lookup(token) is None
    assert keystore.list("sys/token/id/") == []  # and removed on sight, as before
    storage.close()


def test_the_cache_holds_token_hashes_only(cores: tuple[ServerCore, ServerCore]) -> None:
    a, _ = cores
    tokens = [_child(a, ("default",)) for _ in range(3)]
    for token in tokens:
        a.authenticate(token)
    held = a.tokens.cache.paths()
    assert sorted(held) == sorted(f"sys/token/id/{token_hash(t)}" for t in tokens)
    for token in tokens:
        assert not any(token in path or token[4:] in path for path in held)
        assert token not in repr(a.tokens.lookup(token))


def test_the_cache_is_bounded_and_drops_the_oldest(tmp_path: Path) -> None:
    storage = open_storage(backend="sqlite", path=str(tmp_path / "vault.db"))
    keystore: Keystore = unsealed_keystore(storage)
    for index in range(5):
        keystore.put(f"r/{index}", f"value {index}".encode())
    cache: FreshRecords[bytes] = FreshRecords(keystore, lambda path, raw: raw, limit=3)
    for index in range(5):
        assert cache.get(f"r/{index}") == f"value {index}".encode()
    assert cache.paths() == ["r/2", "r/3", "r/4"]
    assert cache.get("r/0") == b"value 0"  # dropped, so read again
    assert cache.get("missing") is None  # absent records are not held
    assert len(cache) == 3
    with pytest.raises(ValueError):
        FreshRecords(keystore, lambda path, raw: raw, limit=0)
    storage.close()


def test_a_token_whose_auth_method_is_gone_is_not_renewed(cores: tuple[ServerCore, ServerCore]) -> None:
    # What a crash between disabling a method and revoking its tokens leaves: a login token of a
    # method the table no longer has. Its method cannot vouch for it, so renewal is refused.
    from secretumvault.server import auth
    from secretumvault.server.errors import HttpError

    core, _ = cores
    token, entry = core.tokens.create(
        policies=("default",), ttl=60, renewable=True, display_name="gone", parent=None,
        path="auth/gone/login/alice",
    )  # fmt: skip
    assert core.auth_methods.resolve("gone/login/alice") is None
    with pytest.raises(HttpError) as refused:
        auth.renewal_increment(core, entry, 3600)
    assert refused.value.status == 400
    assert refused.value.messages == ["the auth method that issued this token is gone; it cannot be renewed"]
    stored = core.tokens.lookup(token)
    assert stored is not None and stored.ttl == 60  # nothing renewed
