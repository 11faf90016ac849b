"""Small helpers shared by the PKI tests."""

from __future__ import annotations

from tests.keystore.conftest import snapshot

__all__ = ["snapshot"]
