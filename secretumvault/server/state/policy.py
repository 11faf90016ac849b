"""ACL policies: capabilities on path globs, deny by default, as Vault evaluates them.

A policy is Vault's JSON form, ``{"path": {"transit/encrypt/*": {"capabilities": ["update"]}}}``,
or the same in HCL (``path "transit/encrypt/*" { capabilities = ["update"] }``) when
python-hcl2 is installed. Vault's legacy shorthand ``policy = "read" | "write" | "deny" |
"sudo"`` stands for the capabilities Vault maps it to. In a pattern, ``+`` stands for one path segment and a
trailing ``*`` for any rest of the path.

Evaluation (Vault's): the rules of all a token's policies are merged by
pattern (capabilities of the same pattern are added up; ``deny`` wins). For
a request path, an exact pattern wins; otherwise the matching glob of highest
priority decides alone. No match, or ``deny``, refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from secretumvault.server.errors import bad_request

__all__ = ["CAPABILITIES", "Acl", "PathRule", "parse_policy"]

CAPABILITIES = frozenset({"create", "read", "update", "delete", "list", "patch", "sudo", "deny"})
_ROOT_CAPABILITIES = CAPABILITIES - {"deny"}
_MAX_RULES = 1024
_MAX_POLICY_LENGTH = 1024 * 1024
#: A policy is path -> pattern -> capabilities: a few levels. Deeper text is refused unparsed.
_MAX_DEPTH = 32
_PATTERN = re.compile(r"[^\x00-\x1f\x7f]{0,1024}")


@dataclass(frozen=True)
class PathRule:
    pattern: str
    capabilities: frozenset[str]

    @property
    def is_glob(self) -> bool:
        return self.pattern.endswith("*") or "+" in self.pattern.split("/")

    def matches(self, path: str) -> bool:
        if not self.is_glob:
            return path == self.pattern
        prefix_glob = self.pattern.endswith("*")
        body = self.pattern[:-1] if prefix_glob else self.pattern
        wanted = body.split("/")
        got = path.split("/")
        if prefix_glob:
            # All segments before the last must match exactly (or be +); the last is a prefix.
            if len(got) < len(wanted):
                return False
            for index, part in enumerate(wanted):
                last = index == len(wanted) - 1
                if part == "+":
                    continue
                if last:
                    rest = "/".join(got[index:])
                    return rest.startswith(part)
                if got[index] != part:
                    return False
            return True
        if len(got) != len(wanted):
            return False
        return all(w == "+" or w == g for w, g in zip(wanted, got, strict=True))

    def priority(self) -> tuple[int, int, int, int, str]:
        """Bigger is more specific (Vault's rules, in order): the first wildcard later,
        no trailing ``*``, fewer ``+`` segments, longer, lexicographically larger."""
        positions = [i for i, c in enumerate(self.pattern) if c in "+*"]
        first_wildcard = positions[0] if positions else len(self.pattern)
        return (
            first_wildcard,
            0 if self.pattern.endswith("*") else 1,
            -self.pattern.split("/").count("+"),
            len(self.pattern),
            self.pattern,
        )


def parse_policy(text: object) -> tuple[PathRule, ...]:
    """The rules of a policy in Vault's JSON (or HCL) form; 400 saying what is wrong.

    A pattern may appear more than once (two HCL blocks, or a JSON key repeated):
    its rules are merged, so a ``deny`` is never lost to a later block.
    """
    if not isinstance(text, str) or not text.strip():
        raise bad_request("policy must be a non-empty string (Vault's JSON or HCL policy)")
    if len(text) > _MAX_POLICY_LENGTH:
        raise bad_request(f"a policy is at most {_MAX_POLICY_LENGTH} characters")
    if _nesting_depth(text) > _MAX_DEPTH:
        # Before any parser sees it: both recurse, and a policy is never this deep.
        raise bad_request(f"policy is nested more than {_MAX_DEPTH} levels deep")
    try:
        document = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_no_constant)
    except ValueError:
        document = _parse_hcl(text)
    if isinstance(document, _Pairs):
        pairs = list(document)
    elif isinstance(document, dict):
        pairs = list(document.items())
    else:
        raise bad_request('a policy is an object with one key, "path"')
    if not pairs or {key for key, _ in pairs} != {"path"}:
        raise bad_request('a policy is an object with one key, "path"')
    blocks: list[Any] = []
    for _, value in pairs:  # "path" itself may be repeated too
        is_block_list = isinstance(value, list) and not isinstance(value, _Pairs)
        blocks.extend(value if is_block_list else [value])  # HCL: a list with one object per block
    rules: list[PathRule] = []
    for block in blocks:
        if not isinstance(block, (_Pairs, dict)):
            raise bad_request("malformed path block in policy")
        entries = list(block) if isinstance(block, _Pairs) else list(block.items())
        rules.extend(_rule(pattern, body) for pattern, body in entries)
        if len(rules) > _MAX_RULES:
            raise bad_request(f'"path" must map up to {_MAX_RULES} path patterns to their rules')
    return tuple(rules)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs, so a repeated key is kept, not overwritten."""

    def items(self) -> list[tuple[str, Any]]:
        return list(self)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting in ``text`` (brackets inside strings counted too: an upper bound)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _rule(pattern: object, body: object) -> PathRule:
    if not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
        raise bad_request("a policy path pattern must be printable text of at most 1024 characters")
    if "*" in pattern[:-1]:
        raise bad_request(f"policy path {pattern!r}: '*' may only end a pattern")
    if isinstance(body, list) and not isinstance(body, _Pairs) and len(body) == 1:  # HCL may wrap it
        body = body[0]
    if isinstance(body, _Pairs):
        keys = [key for key, _ in body]
        if len(keys) != len(set(keys)):
            raise bad_request(f"policy path {pattern!r}: a key is repeated")
        body = dict(body)
    if not isinstance(body, dict):
        raise bad_request(f"policy path {pattern!r} must map to an object")
    unknown = set(body) - {"capabilities", "policy", "__is_block__"}
    if unknown:
        # allowed_parameters, min_wrapping_ttl ...: refusing beats silently granting more.
        raise bad_request(f"policy path {pattern!r}: unsupported keys {sorted(unknown)}")
    capabilities = body.get("capabilities", [] if "policy" in body else None)
    if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        raise bad_request(f"policy path {pattern!r} needs a list of capabilities")
    if "policy" in body:
        capabilities = [*capabilities, *_legacy_policy(pattern, body["policy"])]
    unknown_caps = set(capabilities) - CAPABILITIES
    if unknown_caps:
        raise bad_request(f"policy path {pattern!r}: unknown capabilities {sorted(unknown_caps)}")
    return PathRule(pattern.lstrip("/"), frozenset(capabilities))


#: Vault's legacy shorthand, ``policy = "read"``, as the capabilities it still stands for.
_LEGACY_POLICIES = {
    "deny": ("deny",),
    "read": ("read", "list"),
    "write": ("create", "read", "update", "delete", "list"),
    "sudo": ("create", "read", "update", "delete", "list", "sudo"),
}


def _legacy_policy(pattern: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, str) or value not in _LEGACY_POLICIES:
        shown = f" {value!r}" if isinstance(value, str) and len(value) <= 32 else ""
        raise bad_request(
            f"policy path {pattern!r}: invalid policy{shown}; use one of {', '.join(_LEGACY_POLICIES)}"
        )
    return _LEGACY_POLICIES[value]


def _parse_hcl(text: str) -> Any:
    try:
        import hcl2
    except ImportError:
        raise bad_request("policy is not JSON (HCL policies need python-hcl2 installed)") from None
    try:
        options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False, with_meta=False)
        return hcl2.loads(text, serialization_options=options)
    except Exception:  # the parser's own error types vary between versions
        raise bad_request("policy is neither valid JSON nor valid HCL") from None


class Acl:
    """The merged rules of a token's policies."""

    def __init__(self, rules: Iterable[PathRule], *, root: bool = False) -> None:
        self.root = root
        merged: dict[str, set[str]] = {}
        for rule in rules:
            merged.setdefault(rule.pattern, set()).update(rule.capabilities)
        self._exact: dict[str, frozenset[str]] = {}
        self._globs: list[PathRule] = []
        for pattern, caps in merged.items():
            final = frozenset({"deny"}) if "deny" in caps else frozenset(caps)
            rule = PathRule(pattern, final)
            if rule.is_glob:
                self._globs.append(rule)
            else:
                self._exact[pattern] = final
        self._globs.sort(key=PathRule.priority, reverse=True)

    def capabilities(self, path: str) -> frozenset[str]:
        if self.root:
            return _ROOT_CAPABILITIES
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        for rule in self._globs:  # highest priority first: the first match decides
            if rule.matches(path):
                return rule.capabilities
        return frozenset()

    def has_mount_access(self, mount_path: str) -> bool:
        """Whether any rule grants something on ``mount_path`` (``"secret/"``) or under it.

        Vault's test for ``sys/internal/ui/mounts``: a token learns of a mount only
        if its policies give it some capability there.
        """
        if self.root:
            return True
        granted = self.capabilities(mount_path)
        if granted and "deny" not in granted:
            return True
        wanted = mount_path.rstrip("/").split("/")
        for pattern, caps in [*self._exact.items(), *((g.pattern, g.capabilities) for g in self._globs)]:
            if not caps or "deny" in caps:
                continue
            if pattern.startswith(mount_path):
                return True
            parts = pattern.split("/")
            if "+" in parts and len(parts) > len(wanted):
                if all(p == "+" or p == w for p, w in zip(parts, wanted, strict=False)):
                    return True
        return False

    def allows(self, path: str, capability: str, *, sudo: bool = False) -> bool:
        caps = self.capabilities(path)
        if "deny" in caps or capability not in caps:
            return False
        return not sudo or "sudo" in caps
