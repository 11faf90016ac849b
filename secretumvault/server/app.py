"""The ASGI application: Vault's ``/v1/<path>`` API, with Starlette's request and response.

Every request goes through the same steps: size-limited body, JSON object
parsing, routing (``sys/``, ``auth/token/`` or a mount), the seal check, the
token and its ACL, the audit devices, the handler, and Vault's envelope. Any
failure at any step is one ``{"errors": [...]}`` body with Vault's status.

The application is a plain ASGI callable using Starlette as a toolkit (its
``Request`` and ``Response``): with one path prefix to route and every error
already answered by the dispatcher, Starlette's router and middleware stack
would add nothing but work to each request.

No request may hold up the others: everything that can take more than a few
microseconds (storage writes, the audit log's fsync, parsing a large body, a
batch) runs in the thread pool. Only a cheap single operation (one transit
encryption, an HMAC, a status) on an existing key, with a small body and no
audit device, stays on the event loop when storage is local (SQLite): a thread
hop would cost it more than the work. Over PostgreSQL every step, routing
included, runs in the thread pool, since each may wait on the network.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from secretumvault.keystore import SQLiteStorage
from secretumvault.server import auth
from secretumvault.server.config import ServerSettings
from secretumvault.server.envelope import Reply, envelope
from secretumvault.server.errors import (
    HttpError,
    bad_request,
    from_exception,
    not_found,
    permission_denied,
    sealed,
)
from secretumvault.server.json_body import JsonLimits, parse_json_object
from secretumvault.server.params import Params
from secretumvault.server.routes import kv as kv_routes
from secretumvault.server.routes import kv_v1 as kv_v1_routes
from secretumvault.server.routes import pki as pki_routes
from secretumvault.server.routes import sys as sys_routes
from secretumvault.server.routes import token as token_routes
from secretumvault.server.routes import transit as transit_routes
from secretumvault.server.routing import Call, Handler, Route, Router
from secretumvault.server.state import audit, wrapping
from secretumvault.server.state.core import ServerCore

__all__ = ["create_app"]

log = logging.getLogger("secretumvault.server")

_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "LIST"))
_OPERATIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "update",
    "PUT": "update",
    "DELETE": "delete",
    "PATCH": "patch",
    "LIST": "list",
}
_CAPABILITY = {"read": "read", "list": "list", "update": "update", "delete": "delete", "patch": "patch"}
_ENGINE_ROUTERS: dict[str, Router] = {
    "transit": transit_routes.router,
    "pki": pki_routes.router,
    "kv": kv_routes.router,
    "kv-v1": kv_v1_routes.router,  # kv (or generic) mounts below version 2: Mount.engine_kind
}
_HEADERS = {"Cache-Control": "no-store"}
#: One encoder for every response (json.dumps with options builds a new one per call).
#: allow_nan=False: a response is always JSON that strict parsers read. UTF-8 as it is, as
#: Vault writes it; _ASCII escapes what UTF-8 cannot hold (a lone surrogate), so that no
#: string ever fails a response.
_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)
_ASCII = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
#: Bodies up to this size may be parsed on the event loop (a few microseconds); larger ones in a thread.
_INLINE_BODY_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server (the ``[server]`` settings)."""

    max_request_size: int
    json: JsonLimits
    max_batch_items: int
    max_request_duration: float


@dataclass(frozen=True)
class _Incoming:
    """What routing needs of a request, read on the event loop (a worker thread must not touch it)."""

    method: str
    path: str
    query: dict[str, str]
    token: str | None
    client: str
    wrap_ttl: str | None = None


@dataclass
class _Target:
    route: Route
    handler: Handler
    call: Call
    mount_type: str


class Dispatcher:
    def __init__(self, core: ServerCore, limits: Limits, inline_ok: bool) -> None:
        self.core = core
        self.limits = limits
        self.max_request_size = limits.max_request_size
        self.inline_ok = inline_ok

    async def handle(self, request: Request, path: str) -> Response:
        """Answer ``request`` for Vault's ``path`` (what follows ``/v1/``)."""
        request_id = new_request_id()
        try:
            read = _read_headers(request.scope)
            body = await self._body(request, read.get(b"content-length"))
            incoming = _incoming(request, path, read)
            # Every cached record (token, policy, mount and audit tables, keys) is proved current
            # as of this point with one look at the store: see Keystore.pin_change_counter.
            with self.core.keystore.pin_change_counter():
                if self.inline_ok:  # local storage: routing is a few cached look-ups
                    target = self._route(incoming)
                    if self._runs_inline(target, body):
                        status, content, media_type = self._prepare_and_serve(target, body, request_id)
                    else:
                        status, content, media_type = await run_in_threadpool(
                            self._prepare_and_serve, target, body, request_id
                        )
                else:
                    status, content, media_type = await run_in_threadpool(
                        self._route_and_serve, incoming, body, request_id
                    )
        except HttpError as exc:
            status, content, media_type = _error(exc)
        except ClientDisconnect:  # the client left before its body arrived: nobody to answer
            return Response(status_code=499, headers=_HEADERS)
        except Exception as exc:  # never a traceback or detail to the client; the log names the type only
            log.error("request %s failed before its handler ran: %s", request_id, type(exc).__name__)
            status, content, media_type = _error(from_exception(exc))
        if status == 204:
            return Response(status_code=204, headers=_HEADERS)
        headers = {**_HEADERS, **content.headers} if isinstance(content, _ErrorBody) else _HEADERS
        return Response(content, status_code=status, media_type=media_type, headers=headers)

    def _runs_inline(self, target: _Target, body: bytes) -> bool:
        """Whether serving ``target`` is a cheap, read-only step: see the module's docstring."""
        if not target.route.inline or len(body) > _INLINE_BODY_LIMIT or b"batch_input" in body:
            return False
        if self.core.sealed or self.core.audit_table.get()[0].devices:  # the audit log writes and fsyncs
            return False
        exists = target.route.exists
        return exists is None or exists(target.call)  # a write that creates its key is not cheap

    def _route_and_serve(self, incoming: _Incoming, body: bytes, request_id: str) -> tuple[int, bytes, str]:
        try:
            target = self._route(incoming)
        except HttpError as exc:
            return _error(exc)
        return self._prepare_and_serve(target, body, request_id)

    def _prepare_and_serve(self, target: _Target, body: bytes, request_id: str) -> tuple[int, bytes, str]:
        call = target.call
        try:
            if target.route.raw_body:  # a non-JSON body (an OCSP request): the handler reads it as it is
                call.body = body
            else:
                call.params = Params({**call.params.as_dict(), **parse_json_object(body, self.limits.json)})
        except HttpError as exc:
            return _error(exc)
        call.deadline = time.monotonic() + self.limits.max_request_duration
        call.max_batch_items = self.limits.max_batch_items
        return self._serve(target, request_id)

    # -- steps on the event loop ----------------------------------------------------------------

    async def _body(self, request: Request, declared: str | None) -> bytes:
        """The body, refused (413) once it is larger than ``max_request_size``; ``declared``
        is its Content-Length. Read from ASGI messages: most bodies are one message, kept as is."""
        if request.method in ("GET", "HEAD", "LIST"):
            return b""
        if declared is not None:
            if not declared.isdigit():
                raise bad_request("malformed Content-Length")
            if int(declared) > self.max_request_size:
                raise HttpError(413, "http: request body too large")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_request_size:
                raise HttpError(413, "http: request body too large")
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- steps that may block (on the event loop only with local storage) -----------------------

    def _route(self, incoming: _Incoming) -> _Target:
        method = incoming.method
        operation = _OPERATIONS[method]
        query = dict(incoming.query)
        if method == "GET" and query.pop("list", "").lower() in ("true", "1"):
            operation = "list"
        path = incoming.path
        if has_dot_segment(path):
            raise not_found()
        call = Call(self.core, operation, path, {}, Params(query), incoming.client)
        call.token_id = incoming.token
        call.wrap_ttl = wrapping.parse_wrap_ttl(incoming.wrap_ttl)
        mount_type = "system"
        if path.startswith("sys/") or path == "sys":
            router, relative = sys_routes.router, path
        elif path.startswith("auth/token/"):
            router, relative, mount_type = token_routes.router, path, "token"
        elif path.startswith("auth/"):
            if self.core.sealed:
                raise sealed()
            found = self.core.auth_methods.resolve(path[len("auth/") :])
            if found is None:
                self._refuse_without_grant(call)
                raise not_found(f'no handler for route "{path}". route entry not found.')
            call.engine, relative = found
            mount_type = call.engine.type
            router = auth.ROUTERS[mount_type]
        else:
            if self.core.sealed:
                raise sealed()
            resolved = self.core.mounts.resolve(path)
            if resolved is None:
                self._refuse_without_grant(call)
                raise not_found(f'no handler for route "{path}". route entry not found.')
            call.mount, relative = resolved
            mount_type = call.mount.type
            router = _ENGINE_ROUTERS[call.mount.engine_kind]
            call.engine = self.core.mounts.engine(call.mount)
        try:
            route, handler, groups = router.match(relative, operation)
        except HttpError:
            self._refuse_without_grant(call)  # as Vault: no grant, no hint of which paths exist
            raise
        if self.core.sealed and not route.sealed_ok:
            raise sealed()
        call.groups = groups
        return _Target(route, handler, call, mount_type)

    def _refuse_without_grant(self, call: Call) -> None:
        """403 unless the token's policies grant the operation on the path (Vault checks the
        ACL before routing: only a token allowed there learns that nothing serves it)."""
        if self.core.sealed:
            raise sealed()
        acl = self.core.acl(self.core.authenticate(call.token_id))
        acl_path = call.path.rstrip("/") + "/" if call.operation == "list" else call.path
        capability = _CAPABILITY[call.operation]
        if not acl.allows(acl_path, capability) and not (
            capability == "update" and acl.allows(acl_path, "create")
        ):
            raise permission_denied()

    # -- steps that may block (run inline or in a worker thread) -------------------------------

    def _serve(self, target: _Target, request_id: str) -> tuple[int, bytes, str]:
        call, route = target.call, target.route
        table = None if self.core.sealed else self.core.audit_table.get()[0]
        audited = table is not None and bool(table.devices)
        if not route.unauthenticated:
            try:
                self._authorize(target)
            except HttpError as refused:
                if audited:  # refusals are logged too
                    assert table is not None and table.salt is not None
                    entry = self._audit_entry(
                        target, request_id, table.salt, "request", error=refused.messages[0]
                    )
                    self.core.audit.log(table, entry)
                raise
        if audited:
            assert table is not None and table.salt is not None
            self.core.audit.log(table, self._audit_entry(target, request_id, table.salt, "request"))
        try:
            reply = target.handler(call)
        except Exception as exc:
            error = from_exception(exc)
            if error.status == 500 and not isinstance(exc, HttpError):
                log.error("request %s: %s in %s", request_id, type(exc).__name__, call.path)
            if audited:
                assert table is not None and table.salt is not None
                entry = self._audit_entry(
                    target, request_id, table.salt, "response", error="; ".join(error.messages)
                )
                self.core.audit.log(table, entry)
            return _error(error)
        unused = call.params.unused()
        if unused and reply.body is None:
            reply.warnings.append(f"Endpoint ignored these unrecognized parameters: {unused}")
        if audited:
            assert table is not None and table.salt is not None
            response = {"data": reply.data, "auth": reply.auth}
            self.core.audit.log(
                table, self._audit_entry(target, request_id, table.salt, "response", response=response)
            )
        if call.wrap_ttl is not None:  # X-Vault-Wrap-TTL: the client gets a wrapping token instead
            reply = wrapping.wrap(self.core, reply, call.wrap_ttl, call.path)
        return _render(reply, request_id, target.mount_type)

    def _authorize(self, target: _Target) -> None:
        call, route = target.call, target.route
        entry = self.core.authenticate(call.token_id)
        call.token = entry
        acl = self.core.acl(entry)
        acl_path = call.path.rstrip("/") + "/" if call.operation == "list" else call.path
        capability = _CAPABILITY[call.operation]
        if call.operation == "update" and route.exists is not None:
            caps = acl.capabilities(acl_path)
            if acl.root or {"create", "update"} <= caps:
                call.may_create = True
            elif not route.exists(call):
                capability, call.may_create = "create", True
        if not acl.allows(acl_path, capability, sudo=route.sudo):
            raise permission_denied()

    def _audit_entry(
        self,
        target: _Target,
        request_id: str,
        salt: bytes,
        kind: str,
        response: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        call = target.call
        token = call.token
        auth = (
            None
            if token is None
            else {
                "accessor": token.accessor,
                "display_name": token.display_name,
                "policies": list(token.policies),
                "token_type": "service",
            }
        )
        return audit.request_entry(
            salt,
            kind=kind,
            request_id=request_id,
            operation=call.operation,
            path=call.path,
            mount_type=target.mount_type,
            remote_address=call.remote_address,
            token=call.token_id if token is not None else None,
            auth=auth,
            data=call.params.as_dict(),
            response=response,
            error=error,
        )


#: A hex digit's low two bits under RFC 9562's variant bits (10xx): 8, 9, a or b.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_request_id() -> str:
    """A random (version 4) UUID, as Vault's ``request_id``: 122 bits from ``os.urandom``.

    ``str(uuid.uuid4())`` gives the same text, but builds a UUID object in Python to print
    it: 1.6% of a transit request's instructions, on the server's budget line (issue 24).
    """
    hexed = os.urandom(16).hex()
    return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-{_VARIANT_DIGIT[hexed[16]]}{hexed[17:20]}-{hexed[20:]}"


def has_dot_segment(path: str) -> bool:
    """Whether a segment of ``path`` is ``.`` or ``..`` (refused: 404)."""
    wrapped = f"/{path}/"
    return "/./" in wrapped or "/../" in wrapped


_REPEATED_SLASHES = re.compile("/{2,}")


def _clean(path: str) -> str:
    """The path with repeated slashes made one, as Vault's HTTP mux cleans it before the ACL
    check: otherwise ``sys/mounts//x`` dodges a rule on ``sys/mounts/x`` and still reaches it."""
    if "//" in path:
        path = _REPEATED_SLASHES.sub("/", path)
    return path.lstrip("/")


#: The request headers the server reads (ASGI gives names lower-cased).
_HEADERS_READ = frozenset((b"content-length", b"x-vault-token", b"authorization", b"x-vault-wrap-ttl"))


def _read_headers(scope: Scope) -> dict[bytes, str]:
    """The headers in _HEADERS_READ, each at its first occurrence (as Go's ``Header.Get``)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS_READ and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _incoming(request: Request, path: str, headers: dict[bytes, str]) -> _Incoming:
    scope = request.scope
    client = scope.get("client")
    return _Incoming(
        method=scope["method"],
        path=_clean(path),
        query=dict(request.query_params) if scope["query_string"] else {},
        token=_token(headers),
        client=client[0] if client else "",
        wrap_ttl=headers.get(b"x-vault-wrap-ttl"),
    )


def _token(headers: dict[bytes, str]) -> str | None:
    token = headers.get(b"x-vault-token")
    if token:
        return token
    authorization = headers.get(b"authorization", "")
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class _ErrorBody(bytes):
    """An error's JSON body, carrying the error's extra headers (``Retry-After``) to ``handle``."""

    headers: dict[str, str]


def _error(error: HttpError) -> tuple[int, bytes, str]:
    body = json.dumps({"errors": error.messages}).encode("utf-8")
    if error.headers:  # the rare error with headers; the (status, body, type) shape stays as it is
        body = _ErrorBody(body)
        body.headers = error.headers
    return error.status, body, "application/json"


def _render(reply: Reply, request_id: str, mount_type: str) -> tuple[int, bytes, str]:
    if reply.body is not None:
        return reply.status, reply.body, reply.content_type
    if reply.empty and reply.status == 200:
        return 204, b"", "application/json"
    document = envelope(reply, request_id, mount_type)
    try:
        return reply.status, _COMPACT.encode(document).encode("utf-8"), "application/json"
    except UnicodeEncodeError:
        return reply.status, _ASCII.encode(document).encode("ascii"), "application/json"


_NOT_FOUND = Response(b'{"errors":[]}', status_code=404, media_type="application/json", headers=_HEADERS)
#: Vault answers a method it does not serve with 405 and no message.
_NOT_ALLOWED = Response(b'{"errors":[]}', status_code=405, media_type="application/json", headers=_HEADERS)


class VaultApp:
    """The ASGI application: ``/v1/<path>`` to the dispatcher; any other path is 404, as in Vault."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # uvicorn runs with lifespan off; websockets are not served
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        request = Request(scope, receive)
        path = scope["path"]
        if scope["method"] not in _METHODS:
            response = _NOT_ALLOWED
        elif path.startswith("/v1/"):
            response = await self.dispatcher.handle(request, path[len("/v1/") :])
        else:
            response = _NOT_FOUND
        await response(scope, receive, send)


def create_app(core: ServerCore, *, settings: ServerSettings) -> VaultApp:
    """The application serving ``core``; Vault's API lives under ``/v1/``."""
    inline_ok = isinstance(core.storage, SQLiteStorage)
    limits = Limits(
        max_request_size=settings.max_request_size,
        json=JsonLimits(
            max_json_depth=settings.max_json_depth,
            max_json_string_value_length=settings.max_json_string_value_length,
            max_json_object_entry_count=settings.max_json_object_entry_count,
            max_json_array_element_count=settings.max_json_array_element_count,
        ),
        max_batch_items=settings.max_batch_items,
        max_request_duration=settings.max_request_duration,
    )
    return VaultApp(Dispatcher(core, limits, inline_ok))
