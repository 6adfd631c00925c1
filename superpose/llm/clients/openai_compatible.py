"""Any OpenAI-compatible server (vLLM, llama.cpp server, hosted APIs), through the official
``openai`` package: bounded concurrency, retries with exponential backoff on transient errors
and a per-request timeout. The API key is read from ``OPENAI_API_KEY`` only and is never
written to the cache, logs or errors.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.llm.clients import register_client
from superpose.llm.clients.base import Backend, ChatClient, DiskCache, LLMError


class MalformedReply(LLMError):
    """A reply of status 200 whose body is not what the API promises (retried like a 5xx)."""


def _is_malformed(err: Exception) -> bool:
    """A 200 answer with a body that is not the promised JSON: cut short, empty, wrong shape."""
    import openai

    return isinstance(err, MalformedReply | json.JSONDecodeError | openai.APIResponseValidationError)


def _is_transient(err: Exception) -> bool:
    import openai

    if isinstance(err, openai.APIConnectionError | openai.RateLimitError):
        return True  # includes APITimeoutError
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return False


class OpenAICompatibleClient(ChatClient):
    """Chat completions from any OpenAI-compatible server.

    Retries only transient failures (connection, timeout, 408/409/429, 5xx, and a 200 whose
    body is not the JSON promised) with exponential backoff and jitter; authentication and
    request errors fail at once with their message.
    """

    def __init__(self, model: str, base_url: str | None = None, *, timeout: float = 60.0,
                 max_retries: int = 4, backoff: float = 1.0, concurrency: int = 4,
                 cache: DiskCache | None = None) -> None:
        super().__init__(cache)
        import openai

        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise SuperposeError("OPENAI_API_KEY is not set; export it (any placeholder such as "
                                 "'none' for a local server without authentication)")
        self.name, self.base_url = model, base_url
        self.max_retries, self.backoff, self.concurrency = max_retries, backoff, max(1, concurrency)
        # The library's own retries are off so that ours are the only ones (and are counted).
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout,
                                     max_retries=0)

    def _call(self, make: Any, check: Any = None) -> Any:
        """``check(make())`` (``check`` raises :class:`MalformedReply` on a body it cannot use)
        with retries of transient failures; an :class:`LLMError` when it fails for good."""
        where = self.base_url or "the default OpenAI endpoint"
        for attempt in range(self.max_retries + 1):
            try:
                reply = make()
                return check(reply) if check is not None else reply
            except Exception as err:  # noqa: BLE001 - classified below
                if (_is_transient(err) or _is_malformed(err)) and attempt < self.max_retries:
                    time.sleep(self.backoff * 2 ** attempt * (1 + 0.25 * random.random()))
                    continue
                kind = type(err).__name__
                raise LLMError(f"request to {where} failed after {attempt + 1} attempt(s): "
                               f"{kind}: {_short(err)}") from None
        raise AssertionError("unreachable")

    def _complete(self, request: dict[str, Any]) -> str:
        where = self.base_url or "the default OpenAI endpoint"
        return self._call(lambda: self._client.chat.completions.create(
            model=self.name, messages=request["messages"], max_tokens=request["max_tokens"],
            temperature=request["temperature"]), lambda r: _reply_text(r, where))

    def chat_logprobs(self, messages: list[dict[str, str]], max_tokens: int, top: int
                      ) -> dict[str, Any]:
        """A greedy chat reply with the ``top`` most likely tokens at each of its positions, as
        ``{"content", "logprobs": [{"token", "top": {token: logprob}}], "prompt_tokens"}``
        (``logprobs`` empty when the server returns none); cached like chat replies."""
        request = {"messages": [dict(m) for m in messages], "max_tokens": int(max_tokens),
                   "temperature": 0.0, "logprobs": True, "top_logprobs": int(top)}
        if self.cache is not None:
            cached = self.cache.get(self.name, request)
            if cached is not None:
                return dict(json.loads(cached))
        where = self.base_url or "the default OpenAI endpoint"
        response, text = self._call(lambda: self._client.chat.completions.create(
            model=self.name, messages=request["messages"], max_tokens=request["max_tokens"],
            temperature=0.0, logprobs=True, top_logprobs=int(top)),
            lambda r: (r, _reply_text(r, where)))
        content = getattr(getattr(response.choices[0], "logprobs", None), "content", None) or []
        entries = [{"token": str(t.token), "top": {str(x.token): float(x.logprob)
                                                   for x in (t.top_logprobs or [])}}
                   for t in content]
        usage = getattr(response, "usage", None)
        out = {"content": text, "logprobs": entries,
               "prompt_tokens": getattr(usage, "prompt_tokens", None)}
        if self.cache is not None:
            self.cache.put(self.name, request, json.dumps(out))
        return out

    def prompt_logprobs(self, prompt: str, top: int) -> dict[str, Any]:
        """The first choice of a text completion that echoes ``prompt`` with the ``top`` most
        likely tokens at every prompt position, as a plain dict (cached like chat replies).

        Asks for ``echo`` with ``logprobs`` (llama.cpp, vLLM, legacy OpenAI) and for vLLM's
        ``prompt_logprobs``; servers ignore the field they do not know.
        """
        request = {"prompt": prompt, "echo": True, "logprobs": int(top), "max_tokens": 1,
                   "temperature": 0.0, "prompt_logprobs": int(top)}
        if self.cache is not None:
            cached = self.cache.get(self.name, request)
            if cached is not None:
                return dict(json.loads(cached))
        def first_choice(response: Any) -> dict[str, Any]:
            try:
                return dict(response.model_dump()["choices"][0])
            except (AttributeError, IndexError, KeyError, TypeError):
                raise MalformedReply(f"malformed reply from {self.base_url}: no choices[0]") from None

        choice = self._call(lambda: self._client.completions.create(
            model=self.name, prompt=prompt, echo=True, logprobs=int(top), max_tokens=1,
            temperature=0.0, extra_body={"prompt_logprobs": int(top)}), first_choice)
        if self.cache is not None:
            self.cache.put(self.name, request, json.dumps(choice))
        return dict(choice)


def _short(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:200]


def _reply_text(response: Any, where: str) -> str:
    """The message text of a chat completion, or an LLMError for a malformed reply."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        content = None
    if not isinstance(content, str):
        raise MalformedReply(f"malformed reply from {where}: no choices[0].message.content text")
    return content


@register_client("openai", "any OpenAI-compatible server (key from OPENAI_API_KEY only)")
def build(backend: Backend, cache: DiskCache | None) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(backend.model, backend.base_url, timeout=backend.timeout,
                                  max_retries=backend.retries, concurrency=backend.concurrency,
                                  cache=cache)
