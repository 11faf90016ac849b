"""Error messages as a command-line user reads them.

Library messages are written for Python callers: they name calls such as
``unseal()`` and arguments such as ``backend='oqs'``. The command line says
the same thing with its own flags, on one line, with the right article, with
durations written as the user writes them (``720h``), and with any secret
the process was given (a database password) removed.
"""

from __future__ import annotations

import re

__all__ = ["article", "for_cli", "forget_redactions", "format_duration", "plural", "redact_later"]

# Whole phrases first, then single names: each pattern says what a CLI user does instead.
# Patterns are compiled when a message is first shown, not at every start of the command.
_PHRASES: tuple[tuple[str, str], ...] = (
    (
        r"unseal it with unseal\(\) or unseal_share\(\)",
        "unseal it with --passphrase-file or --share-file",
    ),
    (r"\buse unseal_share\(\)", "use --share-file (or SECRETUMVAULT_SHARES)"),
    (r"\buse unseal\(\)", "use --passphrase-file (or SECRETUMVAULT_PASSPHRASE)"),
    (
        r"call initialize_with_passphrase\(\) or initialize_with_shares\(\) first",
        "run `secretumvault init` first",
    ),
    (r"load the \d+-byte seed with keypair_from_seed\(\), or use ", "use "),
    (r"use seed_bytes\(\) \(the portable \d+-byte seed\) or ", "use "),
    (
        r"set deletion_allowed=True with update_key_config\(\) first",
        "run `secretumvault transit config NAME --deletion-allowed` first",
    ),
    (r"\bbackend=['\"](\w+)['\"]", r"--backend \1"),
    (r"\bmin_decryption_version\b", "--min-decryption-version"),
    (r"\bmin_encryption_version\b", "--min-encryption-version"),
    (r"^shares must be", "--shares must be"),
    (r"^threshold must be", "--threshold must be"),
)

# "a X25519-...", "a ML-DSA-65", "a Ed25519", "a 8-byte": words read with a vowel sound.
_AN_WORD = (
    r"(?:ML-|X25519|X448|Ed25519|Ed448|ECDSA|RSA|HMAC|SLH-|AES|ml-|x25519|ed25519|ecdsa|rsa|hmac|aes"
    r"|8|11\b|18\b|11-|18-)"
)
_A_BEFORE = r"\b([Aa]) (?=\S)"

# str(datetime.timedelta): "3 days, 0:00:00" or "2:30:00"; not the time of a date ("2030-01-01 12:00:00").
_TIMEDELTA = r"(?<![\w:.-])(?<!\d )(?:(\d+) days?, )?(\d{1,2}):(\d\d):(\d\d)(?:\.\d+)?(?![\d:])"

_redacted: list[str] = []


def redact_later(*secrets: str) -> None:
    """Remember strings (e.g. a DSN password) that no message of this command may contain."""
    _redacted.extend(s for s in secrets if s)


def forget_redactions() -> None:
    """The command is over: the next one in this process (tests, embedders) redacts only its own."""
    _redacted.clear()


def article(word: str) -> str:
    """``"an"`` before ``word`` when it is read with a vowel sound (``an ML-KEM-768 key``), else ``"a"``."""
    return "an" if re.match(_AN_WORD, word) else "a"


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


def _duration(match: re.Match[str]) -> str:
    days, hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
    return format_duration(((days * 24 + hours) * 60 + minutes) * 60 + secs)


def _articles(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        rest = text[match.end() :]
        if article(rest) == "an":
            return f"{match.group(1)}n "
        return match.group(0)

    return re.sub(_A_BEFORE, fix, text)


def for_cli(message: str) -> str:
    """One line in the command line's words, with every remembered secret removed."""
    text = " ".join(_redact(message).split())  # drivers end messages with newlines; one line only
    for pattern, replacement in _PHRASES:
        text = re.sub(pattern, replacement, text)
    text = re.sub(_TIMEDELTA, _duration, text)
    return _redact(_articles(text))


def _redact(text: str) -> str:
    forms = {form for secret in _redacted for form in (secret, " ".join(secret.split())) if form}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text
