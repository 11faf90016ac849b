"""In-process checks of the server's pure parts: ACL matching, parameters, [server] settings, key names."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from secretumvault.config import Settings
from secretumvault.errors import ConfigError
from secretumvault.server.app import _render, has_dot_segment, new_request_id
from secretumvault.server.config import ServerSettings
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import HttpError
from secretumvault.server.params import Params, parse_duration
from secretumvault.server.routes.key_types import pki_key_type, transit_key_type
from secretumvault.server.state.policy import Acl, parse_policy

POLICY = """{"path": {
  "secret/*": {"capabilities": ["read", "list"]},
  "secret/super-secret": {"capabilities": ["deny"]},
  "secret/team/+/config": {"capabilities": ["update"]},
  "secret/team/*": {"capabilities": ["create"]},
  "transit/encrypt/app-*": {"capabilities": ["update"]}
}}"""


@pytest.mark.parametrize(
    ("path", "capability", "allowed"),
    [
        ("secret/foo", "read", True),
        ("secret/foo", "update", False),
        ("secret", "read", False),  # "secret/*" needs the slash
        ("secret/super-secret", "read", False),  # exact deny
        ("secret/team/a/config", "update", True),  # + beats the shorter * glob
        ("secret/team/a/config", "create", False),  # ... and decides alone
        ("secret/team/a/other", "create", True),
        ("secret/team/a/other", "read", False),  # the longer glob wins over secret/*
        ("transit/encrypt/app-orders", "update", True),
        ("transit/encrypt/other", "update", False),
        ("sys/mounts", "read", False),  # deny by default
    ],
)
def test_acl_matching_follows_vault_priorities(path: str, capability: str, allowed: bool) -> None:
    assert Acl(parse_policy(POLICY)).allows(path, capability) is allowed


def test_acl_merges_policies_and_deny_wins() -> None:
    one = parse_policy('{"path": {"a/b": {"capabilities": ["read"]}}}')
    two = parse_policy('{"path": {"a/b": {"capabilities": ["update"]}}}')
    three = parse_policy('{"path": {"a/b": {"capabilities": ["deny"]}}}')
    assert Acl(one + two).capabilities("a/b") == {"read", "update"}
    assert not Acl(one + two + three).allows("a/b", "read")
    assert Acl((), root=True).allows("anything/at/all", "sudo", sudo=True)
    assert not Acl(one).allows("a/b", "read", sudo=True)


def test_hcl_policy_equals_json() -> None:
    hcl = 'path "secret/*" {\n  capabilities = ["read", "list"]\n}\n# comment\n'
    hcl += 'path "x" { capabilities = ["deny"] }\n'
    assert set(parse_policy(hcl)) == set(
        parse_policy(
            '{"path": {"secret/*": {"capabilities": ["read", "list"]}, "x": {"capabilities": ["deny"]}}}'
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"path": {"a": {"capabilities": ["read"], "allowed_parameters": {}}}}',
        '{"path": {"a*b": {"capabilities": ["read"]}}}',
        '{"path": {"a": {"capabilities": "read"}}}',
        '{"rules": {}}',
        "path {",
    ],
)
def test_malformed_policies_are_refused(text: str) -> None:
    with pytest.raises(HttpError) as caught:
        parse_policy(text)
    assert caught.value.status == 400


def test_params_weak_types_as_vault() -> None:
    p = Params({"n": "10", "b": "true", "f": 0, "l": "a, b,,c", "d": "1h30m", "s": 5})
    assert p.integer("n") == 10 and p.boolean("b") is True and p.boolean("f") is False
    assert p.string_list("l") == ["a", "b", "c"] and p.duration("d") == 5400 and p.string("s") == "5"
    assert p.unused() == []
    for bad in (
        lambda: p.integer("b"),
        lambda: Params({"x": [1]}).string("x"),
        lambda: Params({"x": 5}).base64("x"),
    ):
        with pytest.raises(HttpError):
            bad()
    assert Params({"extra": 1}).unused() == ["extra"]
    with pytest.raises(HttpError):
        parse_duration("forever", "ttl")
    with pytest.raises(HttpError):
        parse_duration(10**12, "ttl")


def test_server_settings_from_config() -> None:
    settings = Settings.loads('[server]\naddress = "127.0.0.1:8300"\nmax_request_size = 4096\n')
    server = ServerSettings.from_table(settings.server)
    assert (server.host, server.port, server.max_request_size, server.tls) == ("127.0.0.1", 8300, 4096, False)
    assert server.url() == "http://127.0.0.1:8300"
    for bad in ('address = "nowhere"', 'address = "example.com:80"', 'tls_cert_file = "/nonexistent"'):
        with pytest.raises(ConfigError):
            ServerSettings.from_table(Settings.loads(f"[server]\n{bad}\n").server)
    with pytest.raises(ConfigError):
        Settings.loads("[server]\nunknown = 1\n")
    with pytest.raises(ConfigError):
        Settings.loads('[server]\nmax_request_size = "big"\n')


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "aes256-gcm96"),
        ({"type": "ml-kem-768"}, "ml-kem-768"),
        ({"type": "mldsa-87"}, "ml-dsa-87"),
        ({"type": "ml-dsa", "parameter_set": "44"}, "ml-dsa-44"),
    ],
)
def test_transit_key_type_spellings(params: dict[str, str], expected: str) -> None:
    assert transit_key_type(Params(params)) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "RSA-2048"),  # Vault's default
        ({"key_type": "mldsa"}, "ML-DSA-65"),
        ({"key_type": "mldsa", "key_bits": 44}, "ML-DSA-44"),
        ({"key_type": "ec", "key_bits": 256}, "ECDSA-P256"),
        ({"key_type": "ec", "key_bits": 521}, "ECDSA-P521"),
        ({"key_type": "rsa"}, "RSA-2048"),
        ({"key_type": "rsa", "key_bits": 4096}, "RSA-4096"),
        ({"key_type": "ed25519"}, "Ed25519"),
        ({"key_type": "ml-dsa-87"}, "ML-DSA-87"),
    ],
)
def test_pki_key_type_spellings(params: dict[str, object], expected: str) -> None:
    assert pki_key_type(Params(params)) == expected


@pytest.mark.parametrize(
    "params",
    [{"key_type": "mldsa", "key_bits": 99}, {"key_type": "rsa", "key_bits": 8192}, {"key_type": "dsa"}],
)
def test_pki_key_type_refusals(params: dict[str, object]) -> None:
    with pytest.raises(HttpError):
        pki_key_type(Params(params))


@pytest.mark.parametrize(
    "argv",
    [
        ["server"],
        ["server", "--dev", "-c", "x.toml"],
        ["server", "-c", "x.toml", "--workers", "0"],  # --workers is from 1 to 64 (any mode)
        ["server", "-c", "x.toml", "--dev-root-token", "t"],
    ],
)
def test_command_refuses_contradictory_options(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secretumvault", *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2  # the command line's exit code for usage errors
    assert result.stderr.startswith("secretumvault: error:") and "Traceback" not in result.stderr


def test_package_import_stays_cheap() -> None:
    loaded = "any(m.startswith(('starlette', 'uvicorn', 'secretumvault.server')) for m in sys.modules)"
    code = f"import secretumvault, sys; print({loaded})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("transit/keys/a", False),
        ("transit/keys/a.b", False),
        ("transit/keys/..a", False),
        ("transit/keys/...", False),
        (".", True),
        ("..", True),
        ("sys/mounts/../evil", True),
        ("a/./b", True),
        ("a/b/..", True),
        ("./a", True),
    ],
)
def test_dot_segments_are_found(path: str, refused: bool) -> None:
    assert has_dot_segment(path) is refused


def test_responses_are_utf8_json() -> None:
    status, body, media_type = _render(Reply(data={"v": "\u00e9\U0001f511"}), "id", "kv")
    assert (status, media_type) == (200, "application/json")
    assert "\u00e9\U0001f511".encode() in body
    assert json.loads(body)["data"] == {"v": "\u00e9\U0001f511"}


def test_a_string_utf8_cannot_hold_is_escaped_not_a_failure() -> None:
    """A lone surrogate can come back from a record stored before request bodies were read as
    strict UTF-8: the response escapes it (JSON can spell it) instead of failing with a 500."""
    status, body, _ = _render(Reply(data={"v": "a\ud800"}), "id", "kv")
    assert status == 200
    assert b'"v":"a\\ud800"' in body
    assert json.loads(body)["data"] == {"v": "a\ud800"}


def test_request_ids_are_random_version_4_uuids() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
    # Every position that carries randomness takes every hex digit it can (the variant: 8-b).
    for position in (0, 9, 15, 20, 35):
        assert {text[position] for text in ids} == set("0123456789abcdef")
    assert {text[14] for text in ids} == {"4"}
    assert {text[19] for text in ids} == set("89ab")
