"""Chat clients, one file per kind, found through a registry.

Every module of this package but ``base`` defines ``CLIENT``, a
:class:`~superpose.core.registry.Kind` (name, one-line help, ``build(backend, cache) -> ChatClient``),
and is found by :mod:`superpose.core.registry`: a new client is one new file here. Built in:
``local`` (a transformers model on this machine), ``openai`` (any OpenAI-compatible server),
``top-tokens-mass`` (no model: the tokens holding half the activation mass, chosen by measurement;
explain's default) and ``top-tokens`` (the five strongest by peak, or any variant).
"""

from __future__ import annotations

from collections.abc import Callable

from superpose.config import Backend
from superpose.core.errors import SuperposeError
from superpose.core.registry import Kind, Registry, own_name
from superpose.explainer.clients.base import ChatClient, DiskCache, LLMError, Message

__all__ = ["Backend", "ChatClient", "ClientKind", "DiskCache", "LLMError", "Message",
           "check_client_kind", "client_kinds", "make_client"]

Builder = Callable[[Backend, "DiskCache | None"], ChatClient]


ClientKind = Kind
CLIENTS: Registry[Kind[Builder]] = Registry(__name__, "CLIENT", key=own_name)


def client_kinds() -> dict[str, ClientKind]:
    """Every registered client kind by name (built-in files imported first)."""
    return CLIENTS.all()


def check_client_kind(kind: str) -> ClientKind:
    """The registered client ``kind``, or a one-line error naming the others."""
    kinds = client_kinds()
    if kind not in kinds:
        raise SuperposeError(f"unknown back-end {kind!r}; choose one of: " + ", ".join(kinds))
    return kinds[kind]


def make_client(backend: Backend) -> ChatClient:
    """The client ``backend.kind`` names, with the response cache when one is set."""
    kind = check_client_kind(backend.kind)
    cache = DiskCache(backend.cache) if backend.cache else None
    return kind.build(backend, cache)
