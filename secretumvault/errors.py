"""The one exception hierarchy of SecretumVault.

Every failure the library reports is a subclass of :class:`SecretumVaultError`.
Errors caused by a bad argument also subclass :class:`ValueError` (or
:class:`TypeError` for a wrong type), so generic ``except ValueError`` code keeps
working. Messages name what was expected and what to do; they never contain
key material, plaintext or shared secrets.

Some errors also carry, as attributes, the facts a caller may act on (the
argument at fault, the seal a store needs, a backend that would work), so a
front end such as the command line can say the same thing in its own words
without parsing the message. Each is None where the raiser did not set it.
"""

from __future__ import annotations

__all__ = [
    "AlreadyInitialized",
    "BackendUnavailable",
    "CertificateRevoked",
    "ConfigError",
    "ConflictError",
    "CorruptRecord",
    "DecryptionError",
    "InvalidArgument",
    "InvalidCiphertext",
    "InvalidKey",
    "InvalidSignature",
    "InvalidType",
    "KeyNotFound",
    "KeystoreError",
    "NameNotAllowed",
    "NativeError",
    "NotInitialized",
    "PolicyViolation",
    "SealUnavailable",
    "SealedError",
    "SecretumVaultError",
    "StorageBusy",
    "UnsealError",
    "UnsupportedAlgorithm",
]


class SecretumVaultError(Exception):
    """Root of every exception raised by SecretumVault."""


# -- bad arguments --------------------------------------------------------------


class InvalidArgument(SecretumVaultError, ValueError):
    """An argument has the right type but an unacceptable value.

    ``argument``: the name of the argument (or key setting) at fault, e.g. ``"threshold"``;
    ``limit``: the bound it broke, when there is one (a ``max_ttl``, say).
    """

    def __init__(self, *args: object, argument: str | None = None, limit: object = None) -> None:
        super().__init__(*args)
        self.argument = argument
        self.limit = limit


class InvalidType(SecretumVaultError, TypeError):
    """An argument has the wrong type (for example ``str`` where bytes are needed)."""


class InvalidKey(InvalidArgument):
    """A key encoding is malformed: wrong length, or it fails the standard's checks."""


class InvalidCiphertext(InvalidArgument):
    """A ciphertext or envelope is malformed (wrong length, truncated, bad format)."""


class UnsupportedAlgorithm(InvalidArgument):
    """The algorithm name is unknown, or the selected backend does not offer it.

    ``backend``: another backend that does offer it, if one does; ``reason``: the message
    without the advice that names Python calls.
    """

    def __init__(self, *args: object, backend: str | None = None, reason: str | None = None) -> None:
        super().__init__(*args)
        self.backend = backend
        self.reason = reason


class PolicyViolation(InvalidArgument):
    """A key's own policy forbids the operation (a version below its minimum, or
    trimmed; deletion, export or backup not allowed; undoing an irreversible setting)."""


class NameNotAllowed(PolicyViolation):
    """A PKI role (or its CA's name constraints) refuses a requested name; ``rule`` names the rule."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule

    def __reduce__(self) -> tuple[type[NameNotAllowed], tuple[str, str]]:  # keep ``rule`` when pickled
        return type(self), (str(self), self.rule)


# -- cryptographic outcomes -------------------------------------------------------


class InvalidSignature(SecretumVaultError):
    """A signature did not verify under the given key, message and context."""


class CertificateRevoked(InvalidSignature):
    """A certificate in a chain is on its issuer's CRL, so the chain does not verify."""


class DecryptionError(SecretumVaultError):
    """Authenticated decryption failed: the ciphertext, key or associated data is wrong."""


# -- environment ----------------------------------------------------------------


class BackendUnavailable(SecretumVaultError):
    """The requested crypto backend is not available in this installation."""


class NativeError(SecretumVaultError):
    """liboqs reported a failure for an operation whose inputs were valid."""


class ConfigError(SecretumVaultError, ValueError):
    """A configuration file or value is malformed; the message names the key."""


# -- keystore -------------------------------------------------------------------


class KeystoreError(SecretumVaultError):
    """Base class of keystore failures."""


class SealedError(KeystoreError):
    """The keystore is sealed: unseal it before reading or writing secrets."""


class AlreadyInitialized(KeystoreError):
    """The keystore was already initialised; it can be initialised only once."""


class NotInitialized(KeystoreError):
    """The keystore has not been initialised yet."""


class UnsealError(KeystoreError):
    """An unseal passphrase or share was wrong; the store was left unchanged.

    ``seal``: when the material was of the wrong kind, what the store is sealed
    with: ``"passphrase"``, ``"shares"`` or ``"auto"``.
    """

    def __init__(self, *args: object, seal: str | None = None) -> None:
        super().__init__(*args)
        self.seal = seal


class SealUnavailable(UnsealError):
    """An auto-unseal seal's key (a transit server, an HSM) could not be reached; retry later.

    Nothing was changed; the store stays sealed.
    """


class KeyNotFound(KeystoreError, KeyError):
    """No record or named key exists at the given path or name.

    ``kind`` and ``name``, where set: what was looked for (``"certificate"``) and its name
    as the library writes it (a serial as ``"11"``).
    """

    def __init__(self, *args: object, kind: str | None = None, name: str | None = None) -> None:
        super().__init__(*args)
        self.kind = kind
        self.name = name

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class CorruptRecord(KeystoreError):
    """A stored record failed authentication or parsing; other records are unaffected."""


class ConflictError(KeystoreError):
    """A compare-and-set lost a race: the record changed since it was read."""


class StorageBusy(KeystoreError):
    """Every storage connection stayed in use for the whole wait (``[storage] pool_timeout``).

    Nothing was read or written; the call may simply be retried a moment later.
    """
