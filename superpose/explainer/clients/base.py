"""What every chat client shares: the :class:`ChatClient` base, errors and the on-disk response cache
(its settings, :class:`~superpose.config.Backend`, are declared with the other parameters).

* :class:`DiskCache` stores each (model, request) -> reply once, so reruns cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic

Message = dict[str, str]


class LLMError(SuperposeError):
    """A request failed for good (after retries, or a reply that cannot be used)."""


class DiskCache:
    """Replies keyed by a SHA-256 of (model, request); one small JSON file per request."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model: str, request: dict[str, Any]) -> str:
        blob = json.dumps({"model": model, "request": request}, sort_keys=True,
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, model: str, request: dict[str, Any]) -> str | None:
        path = self._path(self.key(model, request))
        try:
            reply = json.loads(path.read_text(encoding="utf-8"))["response"]
        except (OSError, ValueError, KeyError):
            self.misses += 1
            return None
        self.hits += 1
        return str(reply)

    def put(self, model: str, request: dict[str, Any], response: str) -> None:
        write_json_atomic(self._path(self.key(model, request)),
                          {"model": model, "request": request, "response": response})


class ChatClient:
    """Common cache handling; subclasses implement :meth:`_complete`."""

    name: str = "chat"
    concurrency: int = 1

    def __init__(self, cache: DiskCache | None = None) -> None:
        self.cache = cache

    def _complete(self, request: dict[str, Any]) -> str:
        raise NotImplementedError

    def complete(self, messages: Sequence[Message], max_tokens: int = 64,
                 temperature: float = 0.0) -> str:
        """The reply text to ``messages``; served from the cache when asked before."""
        request = {"messages": [dict(m) for m in messages], "max_tokens": int(max_tokens),
                   "temperature": float(temperature)}
        if self.cache is not None:
            cached = self.cache.get(self.name, request)
            if cached is not None:
                return cached
        reply = self._complete(request)
        if self.cache is not None:
            self.cache.put(self.name, request, reply)
        return reply

    def complete_many(self, conversations: Sequence[Sequence[Message]], max_tokens: int = 64,
                      temperature: float = 0.0) -> list[str | Exception]:
        """Replies in order; a failed request gives its exception in place, so others survive."""
        def one(messages: Sequence[Message]) -> str | Exception:
            try:
                return self.complete(messages, max_tokens, temperature)
            except Exception as err:  # noqa: BLE001 - reported per item by the caller
                return err

        if self.concurrency <= 1 or len(conversations) <= 1:
            return [one(m) for m in conversations]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, conversations))


