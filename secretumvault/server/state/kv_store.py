"""Key/value secrets, version 2 (Vault's kv-v2), on the keystore.

One record per secret holds its metadata and every kept version, so each
write, delete, undelete or destroy is a single compare-and-set: a failed or
racing call never leaves half a change behind. ``max_versions`` (default 10)
bounds the record; the oldest versions are dropped beyond it.

``delete_version_after`` (the mount's ``config`` and each secret's metadata)
gives each new version a ``deletion_time`` of its creation plus the smaller
of the two non-zero settings, as Vault does; a version whose deletion time
has passed reads as deleted (404 with its metadata), one still in the future
reads normally. A negative mount setting turns it off for the whole mount.
"""

from __future__ import annotations

import builtins
import datetime
import re
from collections.abc import Callable
from typing import Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server.errors import HttpError, bad_request, not_found
from secretumvault.server.state import records

__all__ = ["KvStore"]

_DEFAULT_MAX_VERSIONS = 10
_SEGMENT = re.compile(r"[^/\x00-\x1f\x7f]{1,255}")
_MAX_PATH = 512
_UPDATE_ATTEMPTS = 16


_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime(_TIME_FORMAT)


def _later(timestamp: str, seconds: int) -> str:
    moment = datetime.datetime.strptime(timestamp, _TIME_FORMAT) + datetime.timedelta(seconds=seconds)
    return moment.strftime(_TIME_FORMAT)


def _is_deleted(stored: dict[str, Any]) -> bool:
    """Deleted once its deletion time has passed (a future one comes from delete_version_after).
    The timestamps are fixed-width UTC, so they compare as strings."""
    deletion: str = stored["deletion_time"]
    return bool(deletion) and deletion <= _now()


def go_duration(seconds: int) -> str:
    """Seconds as Go's ``time.Duration.String()`` writes them, as Vault shows durations: "1h0m0s"."""
    if seconds < 0:
        return "-" + go_duration(-seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def check_secret_path(path: str, *, directory: bool = False) -> str:
    """A secret path: segments without control characters, no '.' or '..', no empty segment."""
    trimmed = path.strip("/") if directory else path
    if directory and not trimmed:
        return ""
    if len(trimmed) > _MAX_PATH or not trimmed:
        raise bad_request(f"a secret path is 1 to {_MAX_PATH} characters")
    for segment in trimmed.split("/"):
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise bad_request("a secret path has non-empty segments without control characters, '.' or '..'")
    return trimmed + ("/" if directory else "")


def list_names(keystore: Keystore, prefix: str) -> list[str]:
    """The names directly under ``prefix`` (a kv directory, both versions); sub-directories end with '/'."""
    children: dict[str, None] = {}
    for record in keystore.list(prefix):
        head, slash, _ = record[len(prefix) :].partition("/")
        children[head + slash] = None
    return list(children)


class KvStore:
    def __init__(self, keystore: Keystore, storage: str) -> None:
        self._keystore = keystore
        self._prefix = f"{storage}/kv/"
        self._config_path = f"{storage}/config"

    # -- mount configuration ---------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        try:
            obj = records.load(self._keystore.get(self._config_path), "kv-config", self._config_path)
        except KeyNotFound:
            obj = {}
        return {
            "max_versions": int(obj.get("max_versions", 0)),
            "cas_required": bool(obj.get("cas_required", False)),
            # Seconds; 0: unset, negative: turned off for the mount (Vault's -1s).
            "delete_version_after": int(obj.get("delete_version_after", 0)),
        }

    def read_config(self) -> dict[str, Any]:
        """As Vault's ``config`` answers: the duration in Go's notation."""
        config = self.config()
        return {**config, "delete_version_after": go_duration(config["delete_version_after"])}

    def set_config(
        self, max_versions: int | None, cas_required: bool | None, delete_version_after: int | None = None
    ) -> None:
        current = self.config()
        if max_versions is not None:
            current["max_versions"] = max_versions
        if cas_required is not None:
            current["cas_required"] = cas_required
        if delete_version_after is not None:
            current["delete_version_after"] = delete_version_after
        self._keystore.put(self._config_path, records.dump("kv-config", current))

    # -- records -------------------------------------------------------------------------------

    def _load(self, path: str) -> tuple[dict[str, Any] | None, int | None]:
        try:
            entry = self._keystore.get_entry(self._prefix + path)
        except KeyNotFound:
            return None, None
        return records.load(entry.value, "kv-secret", self._prefix + path)["secret"], entry.version

    def _update(self, path: str, change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> dict[str, Any]:
        """Apply ``change(secret or None) -> secret`` with compare-and-set; return the new secret."""
        for _ in range(_UPDATE_ATTEMPTS):
            # Each attempt parses the record afresh, so ``change`` may edit it in place: no copy
            # (a deep copy recursed once per level, and failed on data the parser accepted).
            current, version = self._load(path)
            updated = change(current)
            try:
                self._keystore.cas(
                    self._prefix + path, version, records.dump("kv-secret", {"secret": updated})
                )
            except ConflictError:
                continue
            return updated
        raise ConflictError("the secret kept changing under other writers; try again")

    def _require(self, path: str) -> dict[str, Any]:
        secret, _ = self._load(path)
        if secret is None:
            raise not_found()
        return secret

    # -- data --------------------------------------------------------------------------------------

    def read(self, path: str, version: int) -> tuple[int, dict[str, Any]]:
        """(status, Vault's data) of ``version`` (0: the current one). 404 with metadata if deleted."""
        secret = self._require(check_secret_path(path))
        number = version or secret["meta"]["current_version"]
        stored = secret["versions"].get(str(number))
        if stored is None:
            raise not_found()
        metadata = _version_metadata(secret, number)
        if _is_deleted(stored) or stored["destroyed"]:
            return 404, {"data": None, "metadata": metadata}
        return 200, {"data": stored["data"], "metadata": metadata}

    def write(self, path: str, data: dict[str, Any], cas: int | None) -> dict[str, Any]:
        checked = check_secret_path(path)
        config = self.config()

        def change(secret: dict[str, Any] | None) -> dict[str, Any]:
            now = _now()
            if secret is None:
                secret = {"meta": _new_meta(now), "versions": {}}
            meta = secret["meta"]
            current = meta["current_version"]
            if cas is None and (config["cas_required"] or meta["cas_required"]):
                raise bad_request("check-and-set parameter required for this call")
            if cas is not None and cas != current:
                raise bad_request("check-and-set parameter did not match the current version")
            number = current + 1
            after = _delete_after(config["delete_version_after"], meta.get("delete_version_after", 0))
            secret["versions"][str(number)] = {
                "data": data,
                "created_time": now,
                "deletion_time": _later(now, after) if after else "",
                "destroyed": False,
            }
            meta["current_version"] = number
            meta["updated_time"] = now
            _trim(secret, meta["max_versions"] or config["max_versions"] or _DEFAULT_MAX_VERSIONS)
            return secret

        secret = self._update(checked, change)
        return _version_metadata(secret, secret["meta"]["current_version"])

    def patch(self, path: str, patch: dict[str, Any], cas: int | None) -> dict[str, Any]:
        """JSON merge patch (RFC 7386) of the current version into a new version."""
        status, current = self.read(path, 0)
        if status != 200:
            raise not_found()
        merged = _merge_patch(current["data"], patch)
        if not isinstance(merged, dict):
            raise bad_request("the patched secret must stay a JSON object")
        return self.write(path, merged, cas if cas is not None else current["metadata"]["version"])

    def _change_versions(self, path: str, versions: list[int], action: str) -> None:
        checked = check_secret_path(path)

        def change(secret: dict[str, Any] | None) -> dict[str, Any]:
            if secret is None:
                raise not_found()
            targets = versions or [secret["meta"]["current_version"]]
            for number in targets:
                stored = secret["versions"].get(str(number))
                if stored is None:
                    continue
                if action == "delete" and not _is_deleted(stored):
                    stored["deletion_time"] = _now()
                elif action == "undelete" and not stored["destroyed"]:
                    stored["deletion_time"] = ""
                elif action == "destroy":
                    stored["destroyed"], stored["data"] = True, None
            secret["meta"]["updated_time"] = _now()
            return secret

        try:
            self._update(checked, change)
        except HttpError as exc:
            if exc.status == 404 and action == "delete" and not versions:
                return  # Vault: deleting the latest version of nothing is not an error
            raise

    def delete(self, path: str, versions: list[int]) -> None:
        self._change_versions(path, versions, "delete")

    def undelete(self, path: str, versions: list[int]) -> None:
        if not versions:
            raise bad_request("no versions provided")
        self._change_versions(path, versions, "undelete")

    def destroy(self, path: str, versions: list[int]) -> None:
        if not versions:
            raise bad_request("no versions provided")
        self._change_versions(path, versions, "destroy")

    # -- metadata ---------------------------------------------------------------------------------

    def read_metadata(self, path: str) -> dict[str, Any]:
        secret = self._require(check_secret_path(path))
        meta = secret["meta"]
        return {
            **{k: meta[k] for k in ("created_time", "updated_time", "current_version", "max_versions")},
            "oldest_version": min((int(v) for v in secret["versions"]), default=0),
            "cas_required": meta["cas_required"],
            "delete_version_after": go_duration(meta.get("delete_version_after", 0)),
            "custom_metadata": meta["custom_metadata"] or None,
            "versions": {
                number: {k: v[k] for k in ("created_time", "deletion_time", "destroyed")}
                for number, v in secret["versions"].items()
            },
        }

    def write_metadata(
        self,
        path: str,
        *,
        max_versions: int | None,
        cas_required: bool | None,
        custom_metadata: dict[str, str] | None,
        delete_version_after: int | None = None,
    ) -> None:
        checked = check_secret_path(path)

        def change(secret: dict[str, Any] | None) -> dict[str, Any]:
            now = _now()
            if secret is None:
                secret = {"meta": _new_meta(now), "versions": {}}
            meta = secret["meta"]
            if max_versions is not None:
                meta["max_versions"] = max_versions
            if cas_required is not None:
                meta["cas_required"] = cas_required
            if custom_metadata is not None:
                meta["custom_metadata"] = custom_metadata
            if delete_version_after is not None:
                meta["delete_version_after"] = delete_version_after
            meta["updated_time"] = now
            if meta["max_versions"]:
                _trim(secret, meta["max_versions"])
            return secret

        self._update(checked, change)

    def delete_metadata(self, path: str) -> None:
        """Every version and the metadata, for good. Vault: no error if absent."""
        try:
            self._keystore.delete(self._prefix + check_secret_path(path))
        except KeyNotFound:
            pass

    def list(self, directory: str) -> list[str]:
        """The names directly under ``directory``; sub-directories end with '/'."""
        return list_names(self._keystore, self._prefix + check_secret_path(directory, directory=True))

    # -- the upgrade from kv version 1 (kv_v1.py) ---------------------------------------------

    def record_paths(self) -> builtins.list[str]:
        """Every record of this store (the mount's config and secrets)."""
        found = self._keystore.list(self._prefix)
        if self._keystore.record_version(self._config_path) is not None:
            found.append(self._config_path)
        return found

    def put_first_version(self, path: str, data: dict[str, Any]) -> int:
        """A secret whose only version, 1, holds ``data`` (replacing any record at ``path``);
        the record's keystore version."""
        now = _now()
        meta = {**_new_meta(now), "current_version": 1}
        version = {"data": data, "created_time": now, "deletion_time": "", "destroyed": False}
        secret = {"meta": meta, "versions": {"1": version}}
        return self._keystore.put(self._prefix + path, records.dump("kv-secret", {"secret": secret}))

    def remove_if_unchanged(self, path: str, version: int) -> None:
        """Delete the secret at ``path`` if its record is still at keystore ``version``."""
        try:
            self._keystore.delete(self._prefix + path, expected_version=version)
        except (KeyNotFound, ConflictError):
            pass


def _delete_after(mount: int, secret: int) -> int:
    """Vault's rule: the smaller of the non-zero settings; none if the mount turned it off."""
    if mount < 0:
        return 0
    return min((s for s in (mount, secret) if s > 0), default=0)


def _new_meta(now: str) -> dict[str, Any]:
    return {
        "created_time": now,
        "updated_time": now,
        "current_version": 0,
        "max_versions": 0,
        "cas_required": False,
        "custom_metadata": {},
    }


def _version_metadata(secret: dict[str, Any], number: int) -> dict[str, Any]:
    stored = secret["versions"][str(number)]
    return {
        "created_time": stored["created_time"],
        "deletion_time": stored["deletion_time"],
        "destroyed": stored["destroyed"],
        "version": number,
        "custom_metadata": secret["meta"]["custom_metadata"] or None,
    }


def _trim(secret: dict[str, Any], keep: int) -> None:
    numbers = sorted(int(n) for n in secret["versions"])
    for number in numbers[: max(0, len(numbers) - keep)]:
        del secret["versions"][str(number)]


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result
