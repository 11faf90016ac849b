"""English for error messages: "a" or "an" before an algorithm name or a size, as it is read aloud."""

from __future__ import annotations

__all__ = ["article", "with_article"]

# Algorithm names read letter by letter or with a vowel sound: an ML-KEM-768 key, an RSA key.
_AN_PREFIXES = ("ML-", "X25519", "X448", "ED25519", "ED448", "ECDSA", "RSA", "HMAC", "SLH-", "AES")


def article(word: object) -> str:
    """``"an"`` where ``word`` is read with a vowel sound (``an ML-DSA-65``, ``an 8-byte``), else ``"a"``."""
    text = str(word)
    if text.isdigit():  # eight, eighty, eight hundred; eleven, eighteen (and their thousands)
        return "an" if text.startswith("8") or int(text) in (11, 18) or int(text) // 1000 in (11, 18) else "a"
    return "an" if text.upper().startswith(_AN_PREFIXES) else "a"


def with_article(word: object) -> str:
    """``word`` after its article: ``"an ML-KEM-768"``, ``"a 32"``."""
    return f"{article(word)} {word}"
