"""What a handler returns, and Vault's JSON envelope around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secretumvault.server.errors import not_found

__all__ = ["Reply", "envelope", "list_reply"]


@dataclass
class Reply:
    """A handler's answer. With no data, auth or warnings it is Vault's empty 204."""

    data: dict[str, Any] | None = None
    status: int = 200
    warnings: list[str] = field(default_factory=list)
    auth: dict[str, Any] | None = None
    #: A non-JSON body (PEM certificates, CRLs), sent as it is with ``content_type``.
    body: bytes | None = None
    content_type: str = "application/json"
    #: Also copy ``data`` to the top level of the envelope, as Vault does for some ``sys/``
    #: paths (``sys/mounts``, ``sys/policy`` ...): older clients read ``resp["secret/"]``.
    top_level: bool = False
    #: Seconds: what kv version 1 reports from a secret's ``ttl`` key (advisory; no lease is made).
    lease_duration: int = 0
    #: The response went under a wrapping token: what ``wrap_info`` says (``wrapping.py``).
    wrap_info: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return (
            self.body is None
            and self.data is None
            and self.auth is None
            and not self.warnings
            and self.wrap_info is None
        )


def list_reply(keys: list[str]) -> Reply:
    """A LIST answer; Vault answers an empty list with 404."""
    if not keys:
        raise not_found()
    return Reply(data={"keys": keys})


def envelope(reply: Reply, request_id: str, mount_type: str) -> dict[str, Any]:
    document = {
        "request_id": request_id,
        "lease_id": "",
        "renewable": False,
        "lease_duration": reply.lease_duration,
        "data": reply.data,
        "wrap_info": reply.wrap_info,
        "warnings": reply.warnings or None,
        "auth": reply.auth,
        "mount_type": mount_type,
    }
    if reply.top_level and reply.data:
        # Vault writes the data keys first and the envelope's after them: on a clash, the
        # envelope's key is the one JSON parsers keep.
        return {**reply.data, **document}
    return document
