"""Auth methods besides token: AppRole and userpass, enabled at ``auth/<path>/`` through ``sys/auth``.

One module per method, each with its router (paths relative to the method's
mount), and the table of enabled methods (``table.py``).
"""

from __future__ import annotations

from secretumvault.server.auth import approle, userpass
from secretumvault.server.auth.table import METHOD_TYPES, AuthMethod, AuthTable
from secretumvault.server.routing import Router

__all__ = ["METHOD_TYPES", "ROUTERS", "AuthMethod", "AuthTable"]

#: The router of each method type.
ROUTERS: dict[str, Router] = {"approle": approle.router, "userpass": userpass.router}
