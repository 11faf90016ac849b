"""Batch requests as Vault's transit runs them: every item on its own, each error in its item.

Each item's ``reference`` is echoed back. For encrypt, decrypt and rewrap,
Vault's status rules apply: any failed item makes the answer 400 (500 if
only internal errors), unless some items succeeded and the request gave
``partial_failure_response_code``; a batch where every item failed is
always an error. Sign, verify and HMAC answer 200 with the errors in the items.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from secretumvault.server.envelope import Reply
from secretumvault.server.errors import HttpError, bad_request, from_exception
from secretumvault.server.params import Params

__all__ = ["BatchOutcome", "run_batch"]


@dataclass
class BatchOutcome:
    results: list[dict[str, Any]] = field(default_factory=list)
    successes: bool = False
    user_errors: bool = False
    internal_errors: bool = False

    def reply(self, params: Params, *, vault_status_rules: bool) -> Reply:
        reply = Reply(data={"batch_results": self.results})
        if not vault_status_rules or not (self.user_errors or self.internal_errors):
            return reply
        reply.status = 400 if self.user_errors else 500
        if self.successes and "partial_failure_response_code" in params:
            code = params.integer("partial_failure_response_code")
            if 1 <= code <= 599:
                reply.status = code
            else:
                reply.warnings.append(
                    "invalid HTTP response code override from partial_failure_response_code, "
                    f"reverting to {reply.status}"
                )
        return reply


def run_batch(
    items: list[dict[str, Any]],
    one: Callable[[Params], dict[str, Any]],
    *,
    max_items: int,
    deadline: float = float("inf"),
) -> BatchOutcome:
    """Each item through ``one``; at most ``max_items`` items, and given up (503) past ``deadline``.

    Batches here only compute (encrypt, sign, HMAC ...), so one given up has changed nothing.
    """
    if len(items) > max_items:
        raise bad_request(f"batch_input has {len(items)} items; this server takes at most {max_items}")
    outcome = BatchOutcome()
    for index, item in enumerate(items):
        if index % 64 == 0 and time.monotonic() > deadline:
            raise HttpError(503, "the batch ran past the server's max_request_duration; send smaller batches")
        reference = item.get("reference")
        try:
            if reference is not None and not isinstance(reference, str):
                raise bad_request("reference must be a string")
            result = one(Params(item))
            outcome.successes = True
        except Exception as exc:  # each item fails alone; mapped to Vault's errors
            error = from_exception(exc)
            result = {"error": "; ".join(error.messages) or "not found"}
            if error.status >= 500:
                outcome.internal_errors = True
            else:
                outcome.user_errors = True
        result["reference"] = reference if isinstance(reference, str) else ""
        outcome.results.append(result)
    return outcome
