"""Refused issuance: each bad input raises its own exception, and nothing in storage changes."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from secretumvault.errors import InvalidArgument, InvalidType, KeyNotFound, SealedError, UnsupportedAlgorithm
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine, Role

from .conftest import Clock
from .helpers import snapshot

DAY = datetime.timedelta(days=1)


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root", ttl=10 * DAY)
    engine.put_role(
        "web", Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True, max_ttl=30 * DAY)
    )
    return engine


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda e: e.issue("web", "www.example.org"),
            InvalidArgument,
            "does not allow the name 'www.example.org'",
        ),
        (lambda e: e.issue("web", "www.example.com", alt_names=["evil.com"]), InvalidArgument, "'evil.com'"),
        (lambda e: e.issue("web", "example.com"), InvalidArgument, "does not allow"),
        (lambda e: e.issue("web", "*.example.com"), InvalidArgument, "hostname"),
        (lambda e: e.issue("web", "www.example.com", alt_names="a.example.com"), InvalidType, "alt_names"),
        (lambda e: e.issue("web", "www.example.com", ttl=11 * DAY), InvalidArgument, "outlive CA 'root'"),
        (lambda e: e.issue("web", "www.example.com", ttl=31 * DAY), InvalidArgument, "max_ttl"),
        (
            lambda e: e.issue("web", "www.example.com", ttl=datetime.timedelta(0)),
            InvalidArgument,
            "one second",
        ),
        (lambda e: e.issue("web", "www.example.com", ttl=60), InvalidType, "timedelta"),
        (lambda e: e.issue("nope", "www.example.com"), KeyNotFound, "no role named 'nope'"),
        (lambda e: e.issue("../ca/root", "www.example.com"), InvalidArgument, "role name"),
        (lambda e: e.create_root("r2", common_name="R", key_type="X25519"), UnsupportedAlgorithm, "X25519"),
        (
            lambda e: e.create_root("r2", common_name="R", key_type="ML-KEM-768"),
            UnsupportedAlgorithm,
            "key type",
        ),
        (lambda e: e.create_root("root", common_name="Again"), InvalidArgument, "already exists"),
        (lambda e: e.create_root("r2", common_name=""), InvalidArgument, "common_name"),
        (lambda e: e.create_root("r2", common_name="x" * 65), InvalidArgument, "common_name"),
        (lambda e: e.create_root("a/b", common_name="R"), InvalidArgument, "CA name"),
        (lambda e: e.create_root("r2", common_name="R", ttl=-DAY), InvalidArgument, "one second"),
        (lambda e: e.generate_intermediate("root", common_name="R"), InvalidArgument, "already exists"),
        (lambda e: e.sign_intermediate("nope", b"", ttl=DAY), KeyNotFound, "no CA named 'nope'"),
        (lambda e: e.get_certificate("01"), KeyNotFound, "no certificate with serial 01"),
        (lambda e: e.ca_certificate("nope"), KeyNotFound, "no CA named 'nope'"),
    ],
)
def test_refused_and_nothing_changed(
    ready: PkiEngine,
    storage: SQLiteStorage,
    call: Callable[[PkiEngine], object],
    error: type[Exception],
    message: str,
) -> None:
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        call(ready)
    assert snapshot(storage) == before


def test_expired_ca_cannot_issue(ready: PkiEngine, storage: SQLiteStorage, clock: Clock) -> None:
    clock.advance(11 * DAY)
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match=r"CA 'root' expired at .*: it cannot issue"):
        ready.issue("web", "www.example.com", ttl=datetime.timedelta(seconds=1))
    assert snapshot(storage) == before


def test_sealed_keystore(ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage) -> None:
    keystore.seal()
    before = snapshot(storage)
    with pytest.raises(SealedError):
        ready.issue("web", "www.example.com")
    with pytest.raises(SealedError):
        ready.create_root("r2", common_name="R")
    assert snapshot(storage) == before


def test_bad_mount_name(keystore: Keystore) -> None:
    with pytest.raises(InvalidArgument, match="mount name"):
        PkiEngine(keystore, mount="a/../b")


def test_unavailable_backend_creates_nothing(keystore: Keystore, storage: SQLiteStorage) -> None:
    from secretumvault.errors import BackendUnavailable

    engine = PkiEngine(keystore, backend="no-such-backend")
    before = snapshot(storage)
    with pytest.raises((BackendUnavailable, UnsupportedAlgorithm)):
        engine.create_root("root", common_name="Root")
    assert snapshot(storage) == before


def test_repr_shows_no_secrets(ready: PkiEngine) -> None:
    issued = ready.issue("web", "www.example.com", ttl=DAY)
    assert issued.private_key is not None
    body = "".join(issued.private_key.splitlines()[1:-1])
    assert body[:40] not in repr(issued)
    assert "private key" in repr(issued) and "BEGIN" not in repr(issued)
    assert repr(ready).startswith("PkiEngine(mount='pki', backend=")
