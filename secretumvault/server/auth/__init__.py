"""Auth methods besides token: AppRole and userpass, enabled at ``auth/<path>/`` through ``sys/auth``.

One module per method, each with its router (paths relative to the method's
mount), and the table of enabled methods (``table.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from secretumvault.server.auth import approle, userpass
from secretumvault.server.auth.login import TokenSettings
from secretumvault.server.auth.table import METHOD_TYPES, AuthMethod, AuthTable
from secretumvault.server.errors import bad_request
from secretumvault.server.routing import Router
from secretumvault.server.state.tokens import MAX_TTL

if TYPE_CHECKING:
    from secretumvault.keystore import Keystore
    from secretumvault.server.state.core import ServerCore
    from secretumvault.server.state.tokens import TokenEntry

__all__ = ["METHOD_TYPES", "ROUTERS", "AuthMethod", "AuthTable", "renewal_increment"]

#: The router of each method type.
ROUTERS: dict[str, Router] = {"approle": approle.router, "userpass": userpass.router}
#: What each method checks before a token its login issued is renewed (400 to refuse), and
#: the token settings of the role or user as they are now.
_RENEWAL_CHECKS: dict[str, Callable[[Keystore, AuthMethod, TokenEntry], TokenSettings]] = {
    "approle": approle.check_renewal,
    "userpass": userpass.check_renewal,
}


def renewal_increment(core: ServerCore, entry: TokenEntry, increment: int | None) -> int | None:
    """The increment to renew ``entry`` by, asking its auth method first, as Vault does.

    An AppRole token is not renewed once its role is gone, a userpass token once its user is
    gone or has other policies (the token stays valid until it expires: Vault does not revoke
    it either). As Vault's ``CalculateTTL``, the role's (user's) token settings and the method's
    lease TTLs as they are now bind the renewal, not those of the login: no increment asks for
    the current ``token_ttl``; the token's life ends by its creation plus the smallest max TTL
    in force now; a token past that is refused.
    """
    if not entry.path.startswith("auth/") or entry.path.startswith("auth/token/"):
        return increment
    found = core.auth_methods.resolve(entry.path[len("auth/") :])
    if found is None:
        # Disabling or moving a method revokes its tokens; one still here outlived a crash
        # between the two steps. Its method cannot vouch for it: refuse, never skip the check.
        raise bad_request("the auth method that issued this token is gone; it cannot be renewed")
    method = found[0]
    settings = _RENEWAL_CHECKS[method.type](core.keystore, method, entry)
    limits = [t for t in (settings.max_ttl, settings.explicit_max_ttl, method.max_lease_ttl) if t]
    left = entry.creation_time + min([*limits, MAX_TTL]) - core.tokens.now()
    if left <= 0:
        raise bad_request("past the max TTL, cannot renew")  # Vault's words
    return min(increment or settings.ttl or method.default_lease_ttl or MAX_TTL, left)
