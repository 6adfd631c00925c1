"""The explainer path: an LLM explains a unit from its records, a simulator and scorers judge it.

Modules (imported on use, since several need torch):

* :mod:`~superpose.explainer.prompts`, :mod:`~superpose.explainer.explain` - the explainer;
* :mod:`~superpose.explainer.clients` - chat clients, one file per kind (local,
  OpenAI-compatible), response cache;
* :mod:`~superpose.explainer.local_models` - the local chat models (embedded and opt-in);
* :mod:`~superpose.explainer.simulators` - simulators, one file per kind: the all-at-once
  simulator locally or from a server's prompt logprobs, the labelled fallback, embeddings;
* :mod:`~superpose.explainer.encoder` - the sentence encoder (MiniLM) behind the embedding
  simulator and scorer;
* :mod:`~superpose.explainer.scoring` - the scoring math; :mod:`~superpose.explainer.scorers` -
  the scorers, one file each, and ``score_explanation``, the entry point of the input side;
* :mod:`~superpose.explainer.puzzles` - synthetic neurons with exactly stated rules, for the
  puzzle benchmark;
* :mod:`~superpose.explainer.jobs` - the resumable jobs behind ``superpose activations``,
  ``explain`` and ``score``.

The records they read come from :mod:`superpose.activations`.
"""
