"""The LLM path: activation records, an LLM explainer, a simulator and scorers.

Modules (imported on use, since several need torch):

* :mod:`~superpose.llm.records` / :mod:`~superpose.llm.activations` - streaming per-neuron
  records of a model run over corpus text;
* :mod:`~superpose.llm.formats` - on-disk formats and the explain/calibration/held-out split;
* :mod:`~superpose.llm.prompts`, :mod:`~superpose.llm.explain` - the explainer;
* :mod:`~superpose.llm.clients` - chat clients, one file per kind behind a registry (local,
  OpenAI-compatible), response cache;
* :mod:`~superpose.llm.simulators` - simulators, one file per kind behind a registry: the
  all-at-once simulator locally or from a server's prompt logprobs, the labelled fallback;
* :mod:`~superpose.llm.puzzles` - synthetic neurons with exactly stated rules, for the puzzle
  benchmark;
* :mod:`~superpose.llm.scorers` (the registry, one file per scorer), :mod:`~superpose.llm.scoring`,
  :mod:`~superpose.llm.embedding`, :mod:`~superpose.llm.evaluate` - scores;
  ``evaluate.score_explanation`` is the entry point of the input side;
* :mod:`~superpose.llm.steering` - the output side: what clamping a unit does to the next token;
* :mod:`~superpose.llm.jobs` - the resumable jobs behind ``superpose activations``,
  ``explain`` and ``score``.
"""
