"""Routes: a path pattern, its handlers by operation, and what the request needs to reach them.

Operations are Vault's: ``read`` (GET), ``list`` (LIST, or GET with
``?list=true``), ``update`` (POST and PUT), ``delete`` (DELETE), ``patch``
(PATCH). A write to a route with an existence check that finds nothing is a
``create`` and needs that capability instead of ``update``, as in Vault.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from secretumvault.server.envelope import Reply
from secretumvault.server.errors import not_found, unsupported_operation
from secretumvault.server.params import Params

if TYPE_CHECKING:
    from secretumvault.server.state.core import ServerCore
    from secretumvault.server.state.mounts import Mount
    from secretumvault.server.state.tokens import TokenEntry

__all__ = ["Call", "Handler", "Route", "Router"]


@dataclass
class Call:
    """Everything a handler may use about one request."""

    core: ServerCore
    operation: str
    path: str  # the full request path, e.g. "transit/encrypt/orders"
    groups: dict[str, str]
    params: Params
    remote_address: str
    token: TokenEntry | None = None
    token_id: str | None = field(default=None, repr=False)
    mount: Mount | None = None
    engine: Any = None
    #: A write may create its target (the token holds "create"), e.g. encrypt's key upsert.
    may_create: bool = False
    #: The request body as sent, for routes with ``raw_body`` (otherwise it is in ``params``).
    body: bytes = field(default=b"", repr=False)
    #: When the request must be answered by (``time.monotonic()``; ``max_request_duration``).
    deadline: float = float("inf")
    #: The most items a batch request may carry (``max_batch_items``).
    max_batch_items: int = 10_000
    #: ``X-Vault-Wrap-TTL`` in seconds: the response is wrapped (``wrapping.py``); None if not asked.
    wrap_ttl: int | None = None

    def group(self, name: str) -> str:
        return self.groups[name]


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    operations: Mapping[str, Handler]
    #: No token needed (sys/health, sys/init, a CA's certificate ...).
    unauthenticated: bool = False
    #: Served while sealed (only unauthenticated sys routes are).
    sealed_ok: bool = False
    #: The token's policy must also grant "sudo" on the path.
    sudo: bool = False
    #: Cheap enough to run on the event loop instead of a worker thread.
    inline: bool = False
    #: Whether the target exists; if it does not, a write needs "create" instead of "update".
    exists: Callable[[Call], bool] | None = None
    #: The body is not JSON: the handler gets it as bytes in ``Call.body``.
    raw_body: bool = False


#: A pattern whose first path segment is a literal word: the word, then "/", "(?:/" or the end.
_LITERAL_HEAD = re.compile(r"([A-Za-z0-9_-]+)(?:/|\(\?:/|$)")


class Router:
    """Routes tried in the order they were added; the first whose pattern matches the whole
    path serves it. Only the routes that can match the path's first segment are tried: those
    whose pattern starts with that literal word, and those that start with no literal word or
    hold a ``|`` anywhere (an alternation could reach another first segment)."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._by_head: dict[str, list[Route]] = {}  # first segment -> the routes that may match
        self._any_head: list[Route] = []  # routes whose first segment is not a literal word

    def add(self, pattern: str, operations: Mapping[str, Handler], **options: Any) -> None:
        route = Route(re.compile(pattern), operations, **options)
        self._routes.append(route)
        literal = _LITERAL_HEAD.match(pattern)
        if literal is None or "|" in pattern:  # "a/x|b/y" may match either head: never narrowed
            self._any_head.append(route)
            for routes in self._by_head.values():
                routes.append(route)
        else:
            self._by_head.setdefault(literal.group(1), list(self._any_head)).append(route)

    def match(self, path: str, operation: str) -> tuple[Route, Handler, dict[str, str]]:
        """The route for ``path`` and its handler for ``operation``: 404 or 405 otherwise."""
        head = path.split("/", 1)[0]
        for route in self._by_head.get(head, self._any_head):
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            handler = route.operations.get(operation)
            if handler is None:
                raise unsupported_operation()
            return route, handler, found.groupdict()
        raise not_found(f'no handler for route "{path}". route entry not found.')


def name_pattern(name: str) -> str:
    """A named group for one path segment."""
    return f"(?P<{name}>[^/]+)"
