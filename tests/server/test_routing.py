"""The router tries only the routes that can match a path's first segment, and still picks
the route a scan of every route in order would pick."""

from __future__ import annotations

import itertools

import pytest

from secretumvault.server import auth
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import HttpError
from secretumvault.server.routes import kv, kv_v1, pki, token, transit
from secretumvault.server.routes import sys as sys_routes
from secretumvault.server.routing import Call, Route, Router

ROUTERS = {
    "sys": sys_routes.router,
    "token": token.router,
    "kv": kv.router,
    "kv-v1": kv_v1.router,
    "pki": pki.router,
    "transit": transit.router,
    **{f"auth-{name}": router for name, router in auth.ROUTERS.items()},
}
OPERATIONS = ("read", "list", "update", "delete", "patch")


def _scan(router: Router, path: str, operation: str) -> tuple[Route, dict[str, str]] | int:
    """What the router answered before it was indexed: the first route, in order, that matches."""
    for route in router._routes:
        found = route.pattern.fullmatch(path)
        if found is not None:
            return (route, found.groupdict()) if operation in route.operations else 405
    return 404


def _indexed(router: Router, path: str, operation: str) -> tuple[Route, dict[str, str]] | int:
    try:
        route, _, groups = router.match(path, operation)
    except HttpError as exc:
        return exc.status
    return route, groups


def _paths(router: Router) -> list[str]:
    """Paths built from every first segment the routes name, and from their literal words."""
    words = {"", "x", "sign", "config", "keys", "rotate", "pem", "der", "1", "sha2-256", "plaintext"}
    for route in router._routes:
        words.update(
            part
            for part in route.pattern.pattern.split("/")
            if part.replace("_", "").replace("-", "").isalnum()
        )
    heads = {*router._by_head, "unknown", ""}
    out = []
    for head in heads:
        for rest in itertools.product(sorted(words), repeat=2):
            out.append("/".join((head, *rest)).rstrip("/") if rest[1] else "/".join((head, rest[0])))
        out.append(head)
    return out


@pytest.mark.parametrize("name", sorted(ROUTERS))
def test_the_index_picks_what_a_scan_in_order_picks(name: str) -> None:
    router = ROUTERS[name]
    checked = 0
    for path in _paths(router):
        for operation in OPERATIONS:
            assert _indexed(router, path, operation) == _scan(router, path, operation), (path, operation)
            checked += 1
    assert checked > 1000


def _reply(call: Call) -> Reply:
    return Reply()


def test_routes_without_a_literal_first_segment_are_tried_for_every_path() -> None:
    router = Router()
    handler = {"read": _reply}
    router.add("keys/(?P<name>[^/]+)", handler)
    router.add("(?P<anything>.+)/config", handler)  # no literal first segment
    router.add("keys/(?P<name>[^/]+)/config|other", handler)  # alternation: either head
    router.add("restore(?:/(?P<name>[^/]+))?", handler)
    assert router.match("keys/a", "read")[2] == {"name": "a"}
    assert router.match("keys/a/config", "read")[0] is router._routes[1]  # added before the third
    assert router.match("other", "read")[0] is router._routes[2]
    assert router.match("restore", "read")[0] is router._routes[3]
    assert router.match("restore/b", "read")[2] == {"name": "b"}
    assert router.match("zzz/config", "read")[2] == {"anything": "zzz"}
    with pytest.raises(HttpError) as missing:
        router.match("restorex", "read")
    assert missing.value.status == 404
