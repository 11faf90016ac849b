"""Request bodies: strict JSON within the listener's limits (issue 22 item 6, issue 29 item 2).

NaN and Infinity are not JSON (RFC 8259): refused, never stored and echoed.
Bodies past Vault's listener limits (depth 500, strings of 1 MiB, 10,000
entries or elements) are a 400 that names the limit; what the limits let
through is handled behind the parser without recursion errors, and the paths
stay usable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretumvault.server.errors import HttpError
from secretumvault.server.json_body import JsonLimits, check_limits, parse_json_object
from tests.server.conftest import Server, start_dev_server


def _nested(depth: int, leaf: str = '"x"') -> str:
    return '{"a":' * depth + leaf + "}" * depth


def test_empty_and_null_bodies_are_no_data() -> None:
    assert parse_json_object(b"") == {}
    assert parse_json_object(b"  null ") == {}


@pytest.mark.parametrize(
    "body",
    [
        b'{"x": "\xed\xa0\x80"}',  # the UTF-8-style bytes of a lone surrogate (CESU-8)
        b'{"x": "\xff"}',
        '{"x": 1}'.encode("utf-16"),  # json.loads of bytes would read UTF-16; Vault's decoder does not
        '{"x": 1}'.encode("utf-32-le"),
        b'\xef\xbb\xbf{"x": 1}',  # a byte order mark: Go's decoder refuses it too
    ],
)
def test_bodies_that_are_not_utf8_are_refused(body: bytes) -> None:
    with pytest.raises(HttpError) as refused:
        parse_json_object(body)
    assert refused.value.status == 400
    assert refused.value.messages == ["failed to parse JSON input: the body is not valid JSON"]


def test_utf8_text_is_read() -> None:
    assert parse_json_object('{"x": "\u00e9\U0001f511"}'.encode()) == {"x": "\u00e9\U0001f511"}


@pytest.mark.parametrize(
    "body",
    [b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}', b'{"x": 1e400}', b'{"x": [1, -1e999]}'],
)
def test_non_finite_numbers_are_refused(body: bytes) -> None:
    with pytest.raises(HttpError) as refused:
        parse_json_object(body)
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "body,limit",
    [
        (_nested(501), "nested deeper than 500"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 500"),
        (json.dumps({"x": "y" * (1024 * 1024 + 1)}), "longer than 1048576 bytes"),
        (json.dumps({"x": "é" * (512 * 1024 + 1)}), "longer than 1048576 bytes"),
        (json.dumps({f"k{i}": 1 for i in range(10_001)}), "more than 10000 entries"),
        (json.dumps({"x": list(range(10_001))}), "more than 10000 elements"),
    ],
)
def test_bodies_past_a_limit_name_it(body: str, limit: str) -> None:
    with pytest.raises(HttpError) as refused:
        parse_json_object(body.encode())
    assert refused.value.status == 400
    assert limit in refused.value.messages[0]


def test_bodies_at_the_limits_pass() -> None:
    assert parse_json_object(_nested(499).encode())
    assert parse_json_object(json.dumps({"x": "y" * (1024 * 1024)}).encode())
    assert parse_json_object(json.dumps({"x": list(range(10_000))}).encode())


def test_limits_are_settings() -> None:
    small = JsonLimits(max_json_depth=3, max_json_string_value_length=4)
    check_limits({"a": {"b": {"c": "1234"}}}, small)  # three levels
    with pytest.raises(HttpError):
        check_limits({"a": {"b": {"c": {"d": 1}}}}, small)
    with pytest.raises(HttpError):
        check_limits({"a": "12345"}, small)
    with pytest.raises(HttpError):
        check_limits({"12345": 1}, small)  # keys are strings too


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_dev_server(tmp_path_factory.mktemp("json"))
    assert started.request("POST", "transit/keys/k", json={"type": "aes256-gcm96"}).ok
    yield started
    started.stop()


def _post(server: Server, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    response = server.request("POST", path, data=body, headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.content or b"{}")  # strict: fails on NaN


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_is_refused_over_http_and_nothing_is_stored(server: Server, value: str) -> None:
    status, body = _post(server, "secret/data/nan", f'{{"data": {{"limit": {value}}}}}'.encode())
    assert status == 400, body
    assert server.request("GET", "secret/data/nan").status_code == 404


def test_deep_kv_data_within_the_limit_is_stored_and_every_operation_on_it_works(server: Server) -> None:
    deep = json.loads(_nested(490))
    status, body = _post(server, "secret/data/deep", json.dumps({"data": deep}).encode())
    assert status == 200, body
    read = server.request("GET", "secret/data/deep")
    assert read.status_code == 200 and read.json()["data"]["data"] == deep
    assert server.request("GET", "secret/metadata/deep").status_code == 200
    assert server.request("POST", "secret/data/deep", json={"data": deep}).status_code == 200
    assert (
        server.request(
            "PATCH",
            "secret/data/deep",
            json={"data": {"b": deep}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).status_code
        == 200
    )
    assert server.request("DELETE", "secret/data/deep").status_code == 204
    assert server.request("POST", "secret/undelete/deep", json={"versions": [3]}).status_code == 204
    assert server.request("POST", "secret/destroy/deep", json={"versions": [1]}).status_code == 204
    assert server.request("DELETE", "secret/metadata/deep").status_code == 204


def test_deep_kv_data_past_the_limit_is_refused_and_the_path_stays_usable(server: Server) -> None:
    status, body = _post(server, "secret/data/deeper", b'{"data": ' + _nested(700).encode() + b"}")
    assert status == 400 and "nested deeper than 500" in str(body)
    assert server.request("GET", "secret/metadata/deeper").status_code == 404
    assert server.request("POST", "secret/data/deeper", json={"data": {"k": "v"}}).status_code == 200
    assert server.request("DELETE", "secret/data/deeper").status_code == 204


_ROUTES = [
    "secret/data/fuzz",
    "secret/metadata/fuzz",
    "transit/encrypt/k",
    "transit/keys/fuzz",
    "transit/hmac/k",
    "pki/roles/fuzz",
    "pki/root/generate/internal",
    "sys/policies/acl/fuzz",
    "sys/mounts/fuzz",
    "auth/token/create",
    "sys/capabilities-self",
]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(_ROUTES),
    depth=st.integers(min_value=0, max_value=1200),
    value=_json_values,
    wrap=st.sampled_from(["list", "dict"]),
)
def test_no_nested_or_odd_json_gets_a_500(
    server: Server, route: str, depth: int, value: object, wrap: str
) -> None:
    inner = json.dumps(value)
    nested = ("[" * depth + inner + "]" * depth) if wrap == "list" else _nested(depth, inner)
    for field in ("data", "policy", "plaintext", "batch_input", "type", "options", "paths", "common_name"):
        status, body = _post(server, route, f'{{"{field}": {nested}}}'.encode())
        assert status < 500, (route, field, depth, body)


def test_an_oversized_string_and_a_huge_array_get_400s_naming_the_limit(
    server: Server, tmp_path: Path
) -> None:
    status, body = _post(
        server, "secret/data/big", json.dumps({"data": {"x": "y" * (1024 * 1024 + 1)}}).encode()
    )
    assert status == 400 and "longer than 1048576 bytes" in str(body)
    items = [{"input": "aGk="}] * 10_001
    status, body = _post(server, "transit/hmac/k", json.dumps({"batch_input": items}).encode())
    assert status == 400 and "more than 10000 elements" in str(body)


def test_the_limits_are_the_listeners_settings(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text(
        "[server]\nmax_json_depth = 4\nmax_json_string_value_length = 16\n"
        "max_json_object_entry_count = 5\nmax_json_array_element_count = 6\nmax_batch_items = 3\n"
    )
    server = start_dev_server(tmp_path, "-c", str(config))
    try:
        assert server.request("POST", "transit/keys/k", json={"type": "aes256-gcm96"}).ok
        five_deep = {"data": {"a": {"b": {"c": {"d": 1}}}}}
        status, body = _post(server, "secret/data/x", json.dumps(five_deep).encode())
        assert status == 400 and "nested deeper than 4" in str(body)
        status, body = _post(server, "secret/data/x", json.dumps({"data": {"a": "y" * 17}}).encode())
        assert status == 400 and "longer than 16 bytes" in str(body)
        status, body = _post(
            server, "secret/data/x", json.dumps({"data": {str(i): i for i in range(6)}}).encode()
        )
        assert status == 400 and "more than 5 entries" in str(body)
        items = [{"input": "aGk="}] * 4
        status, body = _post(server, "transit/hmac/k", json.dumps({"batch_input": items}).encode())
        assert status == 400 and "at most 3" in str(body)
        status, body = _post(server, "transit/hmac/k", json.dumps({"batch_input": items[:3]}).encode())
        assert status == 200, body
    finally:
        server.stop()
