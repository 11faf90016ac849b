"""The userpass auth method: users with a password and the token settings of their logins.

Passwords are stored only as scrypt hashes (``hashlib.scrypt``: N=2**15, r=8,
p=1, 32-byte output, a random 16-byte salt per user; the parameters are stored
with each hash so they can be raised later). Verification compares in constant
time, and a login for a user that does not exist hashes the password against a
dummy record, so it costs what a wrong password costs and tells nothing.

Layout under the method's storage prefix: ``user/<lowercased name>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.server.auth.login import (
    NAME,
    TokenSettings,
    check_name,
    issue_token,
    policy_list,
    token_settings,
)
from secretumvault.server.auth.table import AuthMethod
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import bad_request, not_found
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.server.state import records

if TYPE_CHECKING:
    from secretumvault.keystore import Keystore
    from secretumvault.server.state.tokens import TokenEntry

__all__ = ["check_renewal", "router"]

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_LENGTH = 32
_SALT_BYTES = 16
_MAX_PASSWORD = 1024
_USER = "user/"
_INVALID = "invalid username or password"
#: Hashed against when the user does not exist, so that login costs the same.
_DUMMY_SALT = secrets.token_bytes(_SALT_BYTES)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_SCRYPT_LENGTH, maxmem=256 * n * r + 2**20
    )


@dataclass(frozen=True)
class _User:
    salt: bytes
    hash: bytes
    n: int
    r: int
    p: int
    token: TokenSettings

    def __repr__(self) -> str:  # never the hash or salt
        return f"_User(token={self.token!r})"

    def encode(self) -> bytes:
        return records.dump(
            "userpass.user",
            {
                "scrypt": {
                    "salt": self.salt.hex(),
                    "hash": self.hash.hex(),
                    "n": self.n,
                    "r": self.r,
                    "p": self.p,
                },
                "token": self.token.to_dict(),
            },
        )

    @classmethod
    def decode(cls, raw: bytes, where: str) -> _User:
        obj = records.load(raw, "userpass.user", where)
        s = obj["scrypt"]
        return cls(
            salt=bytes.fromhex(s["salt"]),
            hash=bytes.fromhex(s["hash"]),
            n=int(s["n"]),
            r=int(s["r"]),
            p=int(s["p"]),
            token=TokenSettings.from_dict(obj["token"]),
        )

    def verify(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.n, self.r, self.p), self.hash)


def _password(call: Call, *, required: bool) -> str | None:
    if "password" not in call.params and not required:
        return None
    password = call.params.string("password", required=True)
    if not password:
        raise bad_request("missing password")
    if len(password) > _MAX_PASSWORD:
        raise bad_request(f"a password is at most {_MAX_PASSWORD} characters")
    return password


def _hashed(password: str, token: TokenSettings) -> _User:
    salt = secrets.token_bytes(_SALT_BYTES)
    return _User(
        salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P), SCRYPT_N, SCRYPT_R, SCRYPT_P, token
    )


def _method(call: Call) -> AuthMethod:
    method: AuthMethod = call.engine
    return method


def _user_path(call: Call) -> str:
    return _method(call).storage + _USER + check_name(call.group("username"), "username")


def _load(call: Call, path: str) -> tuple[_User, int] | None:
    try:
        stored = call.core.keystore.get_entry(path)
    except KeyNotFound:
        return None
    return _User.decode(stored.value, "userpass user"), stored.version


def write_user(call: Call) -> Reply:
    path = _user_path(call)
    found = _load(call, path)
    settings = token_settings(call.params, found[0].token if found else TokenSettings(), legacy_ttls=True)
    password = _password(call, required=found is None)
    if found is None:
        assert password is not None
        call.core.keystore.cas(path, None, _hashed(password, settings).encode())
        return Reply()
    user, version = found
    updated = _hashed(password, settings) if password is not None else replace(user, token=settings)
    call.core.keystore.cas(path, version, updated.encode())
    return Reply()


def read_user(call: Call) -> Reply:
    found = _load(call, _user_path(call))
    if found is None:
        raise not_found()
    return Reply(data=found[0].token.describe())


def delete_user(call: Call) -> Reply:
    try:
        call.core.keystore.delete(_user_path(call))
    except KeyNotFound:
        pass  # Vault: deleting an absent user succeeds
    return Reply()


def list_users(call: Call) -> Reply:
    prefix = _method(call).storage + _USER
    return list_reply(sorted(path[len(prefix) :] for path in call.core.keystore.list(prefix)))


def _update_existing(call: Call, change: Any) -> Reply:
    path = _user_path(call)
    found = _load(call, path)
    if found is None:
        raise bad_request("username does not exist")
    user, version = found
    try:
        call.core.keystore.cas(path, version, change(user).encode())
    except ConflictError:
        raise bad_request("the user changed while this request ran; try again") from None
    return Reply()


def update_password(call: Call) -> Reply:
    password = _password(call, required=True)
    assert password is not None
    return _update_existing(call, lambda user: _hashed(password, user.token))


def update_policies(call: Call) -> Reply:
    name = "token_policies" if "token_policies" in call.params else "policies"
    policies = policy_list(call.params, name)
    return _update_existing(call, lambda user: replace(user, token=replace(user.token, policies=policies)))


def login(call: Call) -> Reply:
    username = call.group("username")
    password = call.params.string("password", required=True)
    user = None
    if len(password) <= _MAX_PASSWORD and NAME.fullmatch(username):
        found = _load(call, _method(call).storage + _USER + username.lower())
        user = None if found is None else found[0]
    if user is None:
        # The same work as a wrong password for a real user: the answer's timing tells nothing.
        _scrypt(password[:_MAX_PASSWORD], _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        raise bad_request(_INVALID)
    if not user.verify(password):
        raise bad_request(_INVALID)
    name = username.lower()
    auth = issue_token(
        call, _method(call), user.token, display_name=f"userpass-{name}", meta={"username": name}
    )
    return Reply(auth=auth)


def check_renewal(keystore: Keystore, method: AuthMethod, entry: TokenEntry) -> TokenSettings:
    """Vault's userpass renews a login's token only while its user exists with the same policies,
    under the user's token settings as they are now."""
    name = entry.meta.get("username", "")
    try:
        raw = keystore.get(method.storage + _USER + name) if name else None
    except KeyNotFound:
        raw = None
    if raw is None:
        raise bad_request(f"user {name!r} no longer exists: not renewing")
    user = _User.decode(raw, "userpass user")
    if set(user.token.policies) - {"default"} != set(entry.policies) - {"default"}:
        raise bad_request("policies have changed, not renewing")  # Vault's words
    return user.token


router = Router()
router.add("users/?", {"list": list_users})
router.add("users/" + name_pattern("username") + "/password", {"update": update_password})
router.add("users/" + name_pattern("username") + "/policies", {"update": update_policies})
router.add(
    "users/" + name_pattern("username"),
    {"read": read_user, "update": write_user, "delete": delete_user},
)
router.add("login/" + name_pattern("username"), {"update": login}, unauthenticated=True)
