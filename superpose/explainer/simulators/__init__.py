"""Simulators, one file per kind, found through a registry.

A simulator predicts, from an explanation, a neuron's activation (0-10) on every token of some
records. Every module of this package but ``base`` defines ``SIMULATOR``, a
:class:`~superpose.core.registry.Kind` (name, one-line help, ``build(context) -> Simulator``), and
is found by :mod:`superpose.core.registry`: a new simulator is one new file here.

Built in: ``all-at-once`` (local model, the method's simulator), ``prompt-logprobs`` (the same
method on an OpenAI-compatible server that returns prompt logprobs), ``chat-numbers`` (the
labelled fallback for servers that cannot), ``embedding`` (no LLM: MiniLM similarity of each
token to the explanation) and ``ensemble`` (all-at-once and embedding, standardised and
averaged). ``auto`` picks ``all-at-once`` for the local back-end and ``prompt-logprobs`` for a
server. :class:`ContrastSimulator` wraps any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.registry import Kind, Registry, own_name
from superpose.explainer.clients import Backend, ChatClient, make_client
from superpose.explainer.simulators.base import SimulationError, Simulator, expected_values

__all__ = ["SimulationError", "Simulator", "SimulatorContext", "SimulatorKind",
           "expected_values", "make_simulator", "simulator_kinds"]


@dataclass
class SimulatorContext:
    """What a builder may use: the back-end settings, batch size, and (built on demand, once)
    the local model or the server client."""

    backend: Backend
    batch_size: int = 4
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    def local_model(self) -> Any:
        """The back-end's model loaded on this machine (:class:`superpose.models.LoadedModel`)."""
        if "model" not in self._built:
            from superpose.explainer.local_models import load_local_model

            self._built["model"] = load_local_model(self.backend.model, device=self.backend.placement)
        return self._built["model"]

    def built_model(self) -> Any:
        """The local model if a simulator has loaded it, else None (so callers can share it)."""
        return self._built.get("model")

    def client(self) -> ChatClient:
        if "client" not in self._built:
            self._built["client"] = make_client(self.backend)
        return self._built["client"]


Builder = Callable[[SimulatorContext], Simulator]


SimulatorKind = Kind
SIMULATORS: Registry[Kind[Builder]] = Registry(__name__, "SIMULATOR", helpers=("base", "contrast"), key=own_name)


def simulator_kinds() -> dict[str, SimulatorKind]:
    """Every registered simulator by name (built-in files imported first)."""
    return SIMULATORS.all()


def make_simulator(name: str, context: SimulatorContext) -> Simulator:
    """The simulator ``name`` (``auto``: by back-end) built from ``context``."""
    kinds = simulator_kinds()
    if name == "auto":
        name = "all-at-once" if context.backend.kind == "local" else "prompt-logprobs"
    if name not in kinds:
        raise SuperposeError(f"unknown simulator {name!r}; choose auto or one of: "
                             + ", ".join(kinds))
    return kinds[name].build(context)
