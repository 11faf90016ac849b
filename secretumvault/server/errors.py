"""Failures as Vault reports them: a status code and ``{"errors": [...]}``.

Library errors are mapped by kind, never by message: a bad argument is 400,
a missing object 404, a sealed store 503. Library messages are safe to show
(:mod:`secretumvault.errors` promises they hold no secret); anything that is
not a library error becomes a bare 500, so no stray detail reaches a client.
"""

from __future__ import annotations

from secretumvault import errors as lib

__all__ = [
    "HttpError",
    "bad_request",
    "from_exception",
    "not_found",
    "permission_denied",
    "sealed",
    "unsupported_operation",
]


#: Seconds a client is told to wait (``Retry-After``) when every storage connection was busy.
STORAGE_BUSY_RETRY_AFTER = 1


class HttpError(Exception):
    """A response to send instead of the handler's result; ``headers`` are added to it."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, *messages)
        self.status = status
        self.messages = list(messages)
        self.headers = dict(headers or {})


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def permission_denied() -> HttpError:
    return HttpError(403, "permission denied")


def not_found(message: str | None = None) -> HttpError:
    return HttpError(404, *([message] if message else []))


def unsupported_operation() -> HttpError:
    return HttpError(405, "unsupported operation")


def sealed() -> HttpError:
    return HttpError(503, "Vault is sealed")


def from_exception(exc: BaseException) -> HttpError:
    """The HTTP error for an exception raised while handling a request."""
    if isinstance(exc, HttpError):
        return exc
    if isinstance(exc, (lib.SealedError, lib.NotInitialized)):
        return sealed()
    if isinstance(exc, lib.StorageBusy):  # transient: nothing was done, a retry soon may succeed
        return HttpError(503, str(exc), headers={"Retry-After": str(STORAGE_BUSY_RETRY_AFTER)})
    if isinstance(exc, lib.AlreadyInitialized):
        return bad_request("Vault is already initialized")
    if isinstance(exc, lib.SealUnavailable):  # the seal's KMS or HSM is out of reach: try again later
        return HttpError(503, str(exc))
    if isinstance(exc, lib.KeyNotFound):
        return not_found(str(exc))
    if isinstance(
        exc,
        (
            lib.InvalidArgument,  # with InvalidKey, InvalidCiphertext, UnsupportedAlgorithm, PolicyViolation
            lib.InvalidType,
            lib.DecryptionError,
            lib.InvalidSignature,
            lib.UnsealError,
            lib.ConflictError,
            lib.ConfigError,
        ),
    ):
        return bad_request(str(exc))
    if isinstance(exc, lib.SecretumVaultError):  # CorruptRecord, NativeError, BackendUnavailable, ...
        return HttpError(500, f"internal error: {exc}")
    return HttpError(500, "internal error")
