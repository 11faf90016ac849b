"""Auth methods besides token: AppRole and userpass, enabled at ``auth/<path>/`` through ``sys/auth``.

One module per method, each with its router (paths relative to the method's
mount), and the table of enabled methods (``table.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from secretumvault.server.auth import approle, userpass
from secretumvault.server.auth.table import METHOD_TYPES, AuthMethod, AuthTable
from secretumvault.server.routing import Router

if TYPE_CHECKING:
    from secretumvault.keystore import Keystore
    from secretumvault.server.state.core import ServerCore
    from secretumvault.server.state.tokens import TokenEntry

__all__ = ["METHOD_TYPES", "ROUTERS", "AuthMethod", "AuthTable", "check_renewal"]

#: The router of each method type.
ROUTERS: dict[str, Router] = {"approle": approle.router, "userpass": userpass.router}
#: What each method checks before a token its login issued is renewed (400 to refuse).
_RENEWAL_CHECKS: dict[str, Callable[[Keystore, AuthMethod, TokenEntry], None]] = {
    "approle": approle.check_renewal,
    "userpass": userpass.check_renewal,
}


def check_renewal(core: ServerCore, entry: TokenEntry) -> None:
    """As Vault asks the auth method before renewing its login's token: an AppRole token is not
    renewed once its role is gone, a userpass token once its user is gone or has other policies.
    The token itself stays valid until it expires (Vault does not revoke it either)."""
    if not entry.path.startswith("auth/") or entry.path.startswith("auth/token/"):
        return
    found = core.auth_methods.resolve(entry.path[len("auth/") :])
    if found is not None:  # none: the method was disabled or moved, and revoked its tokens then
        _RENEWAL_CHECKS[found[0].type](core.keystore, found[0], entry)
