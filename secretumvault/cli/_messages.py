"""Error messages as a command-line user reads them.

Library messages are written for Python callers: some name calls such as
``unseal_share()`` or arguments such as ``backend='oqs'``. Where the command
line has its own way to say the same thing, the error carries the facts as
attributes (see :mod:`secretumvault.errors`) and :func:`describe` words them
with the command line's flags; the message itself is never parsed. Every
message is shown on one line, with any secret the process was given (a
database password) removed.
"""

from __future__ import annotations

from secretumvault._words import article

__all__ = ["article", "describe", "forget_redactions", "format_duration", "plural", "redact_later"]

# What a store sealed with each kind of material needs on the command line.
_MATERIAL = {
    "passphrase": ("a passphrase", "--passphrase-file (or SECRETUMVAULT_PASSPHRASE)"),
    "shares": ("Shamir shares", "--share-file (or SECRETUMVAULT_SHARES)"),
}

# Algorithm names read with a vowel sound ("an ML-KEM-768 key"), in upper case.
_redacted: list[str] = []


def redact_later(*secrets: str) -> None:
    """Remember strings (e.g. a DSN password) that no message of this command may contain."""
    _redacted.extend(s for s in secrets if s)


def forget_redactions() -> None:
    """The command is over: the next one in this process (tests, embedders) redacts only its own."""
    _redacted.clear()


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 distinct unseal share"``, ``"2 distinct unseal shares"``."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def format_duration(seconds: float) -> str:
    """Seconds as the command line takes them: ``720h``, ``1h30m``, ``45s`` (hours are the largest unit)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value]
    return "".join(parts) or "0s"


def describe(exc: BaseException) -> str:
    """The error on one line, in the command line's words, with every remembered secret removed."""
    message = _in_cli_words(exc) or str(exc) or type(exc).__name__
    return _redact(" ".join(_redact(message).split()))  # drivers end messages with newlines; one line only


def _in_cli_words(exc: BaseException) -> str | None:
    """The command line's own wording of a library error that advises a Python call, else None."""
    from secretumvault.errors import NotInitialized, SealedError, UnsealError, UnsupportedAlgorithm

    if isinstance(exc, SealedError):
        return "the store is sealed: unseal it with --passphrase-file or --share-file"
    if isinstance(exc, NotInitialized):
        return "this store is not initialised: run `secretumvault init` first"
    if isinstance(exc, UnsealError) and exc.seal in _MATERIAL:
        sealed_with, flag = _MATERIAL[exc.seal]
        return f"this store is sealed with {sealed_with}: use {flag}"
    if isinstance(exc, UnsupportedAlgorithm) and exc.backend and exc.reason:
        return f"{exc.reason}; use --backend {exc.backend}"
    return None


def _redact(text: str) -> str:
    forms = {form for secret in _redacted for form in (secret, " ".join(secret.split())) if form}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text
