"""What detection and fuzzing share (Paulo et al. 2024, "Automatically interpreting millions of
features in large language models"; EleutherAI's delphi): examples drawn from a unit's records,
a judge that answers 1 or 0 for each of a few examples at a time, and the metrics.

* **Examples.** A record is *activating* when its peak activation reaches ``active_fraction`` of
  the unit's largest activation on its records, else *non-activating*. Records the explainer saw
  are never shown. Activating examples are drawn across activation quantiles: the activating
  records sorted by peak are cut into ``n_quantiles`` equal groups and each group gives its share
  (a group short of records passes its share on). Non-activating ones are drawn uniformly. Each
  example is a ``window`` of tokens, the peak three quarters of the way in (delphi's layout;
  non-activating records: a random window). Every draw comes from ``seed`` alone, not from the
  explanation, so every explanation of a unit (and its shuffled control) sees the same examples.
* **The judge** sees the explanation and ``examples_per_prompt`` examples (5, as delphi) and
  answers a list such as ``[1,0,0,1,1]``. A local model's answer is decoded under that format:
  at each slot the probability of "1" against "0" (:class:`LocalJudge`); a server's is parsed
  from its reply, with the probabilities from the returned logprobs when it gives them
  (:class:`ServerJudge`). Either is cached per prompt.
* **Metrics** per unit: balanced accuracy and F1 of the answers (yes when P(1) >= 0.5), AUC of
  P(1) of the true examples against the false ones (:func:`classification_metrics`).

Use from code: :func:`detection_score` and :func:`fuzzing_score` take an explanation, records
(a :class:`~superpose.activations.formats.NeuronRecords`, a ``RecordSplit`` or a list of
``ActivationRecord``) and a judge (:func:`make_judge`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from superpose.config import ClassifierParams
from superpose.core.errors import SuperposeError
from superpose.explainer.scoring import Score, auc, undefined

__all__ = ["ClassifierParams", "ClassifierScore", "Cost", "Example", "Judging", "LocalJudge",
           "ServerJudge", "classification_metrics", "detection_examples", "detection_score",
           "draw_records", "fuzzing_examples", "fuzzing_score", "judge_probabilities",
           "make_judge"]

LEFT, RIGHT = "<<", ">>"


# ---- examples --------------------------------------------------------------------------------

@dataclass
class Example:
    """A window of one record as the judge sees it, and the answer it should give."""

    tokens: list[str]
    activations: np.ndarray
    truth: bool  # should the judge say 1?
    quantile: int = -1  # activating records: 0 = the strongest group; -1: non-activating
    sequence: int = -1
    marks: tuple[int, ...] = ()  # fuzzing: positions of marked tokens

    def text(self) -> str:
        """The tokens joined, marked runs between << and >> (a run's leading space outside);
        newlines shown as spaces."""
        out, marked = [], set(self.marks)
        for i, token in enumerate(self.tokens):
            if i in marked and i - 1 not in marked:
                core = token.lstrip()
                out += [token[:len(token) - len(core)], LEFT]
                token = core
            out.append(token)
            if i in marked and i + 1 not in marked:
                out.append(RIGHT)
        return " ".join("".join(out).split())


def _peak(record: Any) -> float:
    acts = np.asarray(record.activations, dtype=np.float64)
    return float(acts.max()) if acts.size else -np.inf


def _candidates(records: Any) -> tuple[list[Any], float]:
    """Records that may be shown (not the explainer's) and the unit's largest activation."""
    from superpose.activations.formats import NeuronRecords, RecordSplit

    if isinstance(records, NeuronRecords):
        split = records.split()
        pool = split.calibration + split.holdout + [r for q in records.quantile.values() for r in q]
        every = records.top + records.random + pool
        seen = {r.sequence for r in split.explain}
    elif isinstance(records, RecordSplit):
        pool, every = records.calibration + records.holdout, \
            records.explain + records.calibration + records.holdout
        seen = {r.sequence for r in records.explain}
    else:
        pool, every, seen = list(records), list(records), set()
    out, kept = [], set()
    for r in pool:
        key = r.sequence if r.sequence >= 0 else ("id", id(r))
        if key in kept or (r.sequence >= 0 and r.sequence in seen):
            continue
        kept.add(key)
        out.append(r)
    top = max((_peak(r) for r in every), default=-np.inf)
    return out, top


def draw_records(records: Any, params: ClassifierParams) -> tuple[list[Example], list[Example], float]:
    """Activating examples across quantiles, non-activating ones, and the activation threshold.

    Deterministic given ``params.seed`` and the records (see the module's docstring).
    """
    pool, top = _candidates(records)
    if not np.isfinite(top) or top <= 0:
        return [], [], float("nan")
    threshold = params.active_fraction * top
    rng = np.random.default_rng(params.seed)
    active = sorted((r for r in pool if _peak(r) >= threshold), key=lambda r: (-_peak(r), r.sequence))
    quiet = [r for r in pool if _peak(r) < threshold]
    groups = np.array_split(np.arange(len(active)), min(params.n_quantiles, max(1, len(active))))
    quota = [params.n_activating // len(groups) + (i < params.n_activating % len(groups))
             for i in range(len(groups))]
    positives: list[Example] = []
    carry = 0
    for q, (members, want) in enumerate(zip(groups, quota, strict=True)):
        want += carry
        take = min(want, len(members))
        carry = want - take
        for i in sorted(rng.choice(members, size=take, replace=False)) if take else []:
            positives.append(_window(active[i], params.window, True, q, rng))
    n_neg = min(params.n_non_activating, len(quiet))
    negatives = [_window(quiet[i], params.window, False, -1, rng)
                 for i in sorted(rng.choice(len(quiet), size=n_neg, replace=False))] if n_neg else []
    return positives, negatives, threshold


def _window(record: Any, width: int, truth: bool, quantile: int, rng: np.random.Generator) -> Example:
    acts = np.asarray(record.activations, dtype=np.float64)
    n = len(record.tokens)
    if width <= 0 or n <= width:
        start = 0
    elif truth:  # the peak three quarters of the way in, as delphi centres its examples
        start = int(np.clip(int(np.argmax(acts)) - (width - width // 4), 0, n - width))
    else:
        start = int(rng.integers(0, n - width + 1))
    stop = n if width <= 0 else min(n, start + width)
    return Example(list(record.tokens[start:stop]), acts[start:stop], truth, quantile,
                   int(getattr(record, "sequence", -1)))


def detection_examples(records: Any, params: ClassifierParams) -> list[Example]:
    """Whole windows, activating (truth 1) and non-activating (truth 0), in a seeded order."""
    positives, negatives, _ = draw_records(records, params)
    examples = positives + negatives
    np.random.default_rng([params.seed, 1]).shuffle(examples)  # type: ignore[arg-type]
    return examples


def fuzzing_examples(records: Any, params: ClassifierParams) -> list[Example]:
    """Each activating window twice: marks on its active tokens (truth 1), and the same number
    of marks on tokens below the threshold (truth 0), in a seeded order."""
    positives, _, threshold = draw_records(records, params)
    rng = np.random.default_rng([params.seed, 2])
    examples = []
    for ex in positives:
        hot = tuple(int(i) for i in np.flatnonzero(ex.activations >= threshold))
        cold = np.flatnonzero(ex.activations < threshold)
        if not hot or cold.size == 0:
            continue
        visible = np.array([i for i in cold if ex.tokens[i].strip()], dtype=np.int64)
        choices = visible if visible.size >= len(hot) else cold
        wrong = tuple(sorted(int(i) for i in rng.choice(choices, size=min(len(hot), choices.size),
                                                         replace=False)))
        examples.append(Example(ex.tokens, ex.activations, True, ex.quantile, ex.sequence, hot))
        examples.append(Example(ex.tokens, ex.activations, False, ex.quantile, ex.sequence, wrong))
    rng.shuffle(examples)  # type: ignore[arg-type]
    return examples


# ---- prompts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """A judge's instructions and worked examples (our own wording).

    The wording is kept clear of the puzzles' explanations (tests/test_llm_puzzle_leaks.py), so a
    puzzle's true explanation gains nothing from sharing words with the instructions.
    """

    name: str
    system: str
    shots: tuple[tuple[str, tuple[str, ...], str], ...]  # (explanation, examples, answer)

    def user(self, explanation: str, examples: Sequence[str]) -> str:
        listing = "\n".join(f"Example {i + 1}: {text}" for i, text in enumerate(examples))
        return f"Explanation: {explanation}\n\n{listing}\n\nGive {len(examples)} answers."

    def messages(self, explanation: str, examples: Sequence[str]) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system}]
        for shot, texts, answer in self.shots:
            out += [{"role": "user", "content": self.user(shot, texts)},
                    {"role": "assistant", "content": answer}]
        return out + [{"role": "user", "content": self.user(explanation, examples)}]


_INTRO = ("You are checking explanations of a unit of a language model. An explanation says what "
          "kind of text makes the unit respond. You get an explanation and some text examples, "
          "each labelled Example k. ")
_ANSWER = ("Give 1 or 0 for each example, in order, in the form [1,0,1] for three examples, and "
           "no other text.")

DETECTION = Task(
    "detection",
    _INTRO + "For each example, answer 1 if the text contains what the explanation describes, "
    "or 0 if it does not. " + _ANSWER,
    (("mentions of rivers and lakes",
      ("we walked along the bank of the Danube until dusk", "the invoice was paid on Tuesday",
       "ferries crossed Lake Geneva every morning", "she tuned the old violin",
       "he plugged in the kettle and waited"), "[1,0,1,0,0]"),
     ("tools used for cooking",
      ("stir the soup with a wooden spoon", "the train to Lyon was delayed",
       "heat the oil in a heavy pan", "our team won the cup at home",
       "keep the whisk in the drawer"), "[1,0,1,0,1]")))

FUZZING = Task(
    "fuzzing",
    _INTRO + "In each example some tokens are highlighted between << and >> as those the unit "
    "responds to, and for some examples the highlighting is wrong. For each example, answer 1 if "
    "every highlighted token fits the explanation, or 0 if any highlighted token does not fit "
    "it. " + _ANSWER,
    (("mentions of rivers and lakes",
      ("we walked along the bank of the <<Danube>> until dusk",
       "ferries <<crossed>> Lake Geneva every morning",
       "the ferry sailed from <<Lake Como>> at noon", "we swam in the <<Thames>> all summer",
       "<<the>> Nile floods each spring"), "[1,0,1,1,0]"),
     ("tools used for cooking",
      ("stir the soup with a wooden <<spoon>>", "heat the <<oil>> in a heavy pan",
       "she dried the <<whisk>> and the ladle", "the <<chef>> washed the bowl",
       "pour the batter into the <<frying pan>>"), "[1,0,1,0,1]")))

TASKS = {t.name: t for t in (DETECTION, FUZZING)}

_YES, _NO = {"1", "yes", "true"}, {"0", "no", "false"}


def parse_answer(text: str, n: int) -> list[bool] | None:
    """The first bracketed group of exactly n answers in a reply, or None (the examples then
    count as failed).

    Answers are 1/0, yes/no or true/false, quoted or not, separated by commas, semicolons or
    spaces; a group of the wrong length or with another word is skipped, so ``[Example 1] ...
    [1,0,1]`` still parses.
    """
    for match in re.finditer(r"\[([^\[\]]*)\]", text):
        words = [w.strip("'\"").lower() for w in re.split(r"[,;\s]+", match.group(1)) if w]
        words = [w for w in words if w]
        if len(words) == n and all(w in _YES | _NO for w in words):
            return [w in _YES for w in words]
    return None


# ---- judges ------------------------------------------------------------------------------------

@dataclass
class Cost:
    """What judging one unit cost: prompts, their tokens, cache hits, wall and CPU seconds."""

    prompts: int = 0
    prompt_tokens: int = 0
    computed_tokens: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(seconds=round(self.seconds, 3), cpu_seconds=round(self.cpu_seconds, 3))
        return out


@dataclass
class Verdict:
    """A judge's answer to one prompt: P(1) per example (None where it gave no answer), the
    prompt's tokens, and the tokens the model really computed (0 when unknown or cached)."""

    probabilities: list[float | None]
    prompt_tokens: int
    cached: bool = False
    computed_tokens: int = 0


class Judge:
    """Answers a task's prompt for a few examples; subclasses implement :meth:`_answer`.

    The verdict of a (task, explanation, examples) prompt is cached in a
    :class:`~superpose.explainer.clients.DiskCache` when one is given, keyed by the judge's name,
    the number of examples per prompt and the whole prompt, so a rerun costs nothing and a run at
    another batch size never reuses these answers.
    """

    name: str = "judge"
    method: str = ""

    def __init__(self, cache: Any = None) -> None:
        self.cache = cache

    def _answer(self, messages: list[dict[str, str]], n: int) -> Verdict:
        raise NotImplementedError

    def verdict(self, task: Task, explanation: str, examples: Sequence[str],
                per_prompt: int | None = None) -> Verdict:
        """P(1) of each example; ``per_prompt``: the batch size the examples were cut by (part
        of the cache key; the number of examples when not given)."""
        messages = task.messages(explanation, examples)
        request = {"judge": "0/1 list, P(1) per slot", "method": self.method,
                   "examples_per_prompt": int(per_prompt or len(examples)), "messages": messages}
        if self.cache is not None:
            hit = self.cache.get(self.name, request)
            if hit is not None:
                data = json.loads(hit)
                return Verdict(data["probabilities"], int(data["prompt_tokens"]), cached=True)
        verdict = self._answer(messages, len(examples))
        if self.cache is not None:
            self.cache.put(self.name, request, json.dumps(
                {"probabilities": verdict.probabilities, "prompt_tokens": verdict.prompt_tokens}))
        return verdict


class _Context:
    """A key/value cache and the token ids it holds; cut back to a common start and extended."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.cache: Any = None


class LocalJudge(Judge):
    """A local chat model answering under the list format: at each slot it chooses between the
    tokens "1" and "0" and P(1) is their softmax; greedy, so the verdict is deterministic.

    Prompts share their start: the system prompt and worked examples (every prompt of a task),
    then the explanation (every prompt of a unit). One key/value cache per task keeps the last
    prompt; the next is cut back to the tokens they share and only the rest is computed, so the
    shared start is computed once, as delphi's served judge reuses its prompt prefix.
    """

    method = "local chat model, answers decoded as a 0/1 list; P(1) from next-token logits"

    def __init__(self, model: Any, tokenizer: Any, name: str, cache: Any = None) -> None:
        super().__init__(cache)
        self.model, self.tokenizer, self.name = model, tokenizer, f"local:{name}"
        ids = {d: tokenizer.encode(d, add_special_tokens=False) for d in ("0", "1", ",", "[")}
        if any(len(v) != 1 for v in ids.values()):
            raise SuperposeError(f"the judge's tokenizer splits one of 0, 1, ',' or '[' ({name}); "
                                 "choose another judge model")
        self._ids = {k: v[0] for k, v in ids.items()}
        self._contexts: dict[str, _Context] = {}
        import inspect

        # transformers 5 renamed past_key_values to cache; accept either.
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters \
            else "past_key_values"

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _render(self, messages: list[dict[str, str]], prompt: bool) -> str:
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=prompt))

    def prompt_ids(self, messages: list[dict[str, str]]) -> tuple[str, list[int]]:
        """The task's fixed text (system prompt and worked examples) and the prompt's token ids
        up to the answer's opening ``[``: the fixed text and the rest tokenised apart, so every
        prompt of a task starts with the same ids."""
        full = self._render(messages, True)
        fixed = self._render(messages[:-1], False)
        if not full.startswith(fixed):  # a template that rewrites earlier turns: no split
            fixed = ""
        return fixed, self._encode(fixed) + self._encode(full[len(fixed):]) + [self._ids["["]]

    def _device(self) -> Any:
        from superpose.models.device import module_device

        return module_device(self.model)

    def _logits(self, context: _Context, seq: list[int], read: int) -> tuple[Any, int]:
        """Next-token logits at positions ``read`` .. end of ``seq``, computing only what the
        context does not already hold; the number of tokens computed."""
        import torch

        common = 0
        limit = min(len(context.ids), read)
        while common < limit and context.ids[common] == seq[common]:
            common += 1
        if context.cache is not None and common < len(context.ids):
            try:
                context.cache.crop(common - len(context.ids))  # negative: drop that many
            except (AttributeError, ValueError, TypeError, RuntimeError):
                context.cache, common = None, 0  # a cache that cannot be cut: start afresh
        if context.cache is None:
            common = 0
        new = seq[common:]
        device = self._device()
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([new], device=device),
                             attention_mask=torch.ones(1, len(seq), dtype=torch.long, device=device),
                             use_cache=True, logits_to_keep=len(seq) - read,
                             **{self._cache_arg: context.cache})
        context.cache, context.ids = getattr(out, self._cache_arg), list(seq)
        return out.logits[0].double(), len(new)

    def _answer(self, messages: list[dict[str, str]], n: int) -> Verdict:
        """Greedy decoding of the list, checked in as few forward passes as possible.

        The answer is fed as a guess (first all ones) behind the prompt in one pass; the logits at
        every slot then say whether the model would have written that digit. At the first slot
        where it would not, the digit is corrected, the later slots take the choices of this pass,
        and only the tokens from there on are fed again. The result is exactly sequential greedy
        decoding (each P(1) is read after the model's own earlier answers), in a few passes
        instead of n.
        """
        import torch

        fixed, base = self.prompt_ids(messages)
        context = self._contexts.setdefault(fixed, _Context())
        one, zero, comma = self._ids["1"], self._ids["0"], self._ids[","]
        guess = [one] * n
        probabilities: list[float | None] = [None] * n
        done, computed = 0, 0
        while done < n:
            # "[d0,d1,...,d(n-2)," : the last digit's own logits are never read
            answer = [t for k, d in enumerate(guess[:-1]) for t in (d, comma)]
            read = len(base) - 1 + 2 * done  # the position whose next token is slot `done`
            logits, fed = self._logits(context, base + answer, read)
            computed += fed
            first = done
            slots = [float(torch.sigmoid(logits[2 * (k - first), one] - logits[2 * (k - first), zero]))
                     for k in range(first, n)]
            for k in range(first, n):
                p = slots[k - first]
                probabilities[k], done = p, k + 1
                if (one if p >= 0.5 else zero) != guess[k]:
                    # the next guess: this pass's own choices (read after the wrong digit; they
                    # usually hold, and each slot is checked again anyway)
                    guess[k:] = [one if q >= 0.5 else zero for q in slots[k - first:]]
                    break
        return Verdict(probabilities, len(base), computed_tokens=computed)


class ServerJudge(Judge):
    """A model behind an OpenAI-compatible server: its reply parsed as a list; P(1) per slot
    from the top logprobs of the answer's digit tokens when the server returns them, else the
    answer itself (1.0 or 0.0, so its AUC is that of the answers)."""

    method = "server chat model, reply parsed as a 0/1 list; P(1) from returned logprobs"

    def __init__(self, client: Any, top_logprobs: int = 5) -> None:
        if not hasattr(client, "chat_logprobs"):
            raise SuperposeError(f"client {getattr(client, 'name', client)!r} cannot return "
                                 "chat logprobs; use the openai back-end or a local judge")
        super().__init__(getattr(client, "cache", None))
        self.client, self.top_logprobs, self.name = client, int(top_logprobs), client.name

    def _answer(self, messages: list[dict[str, str]], n: int) -> Verdict:
        reply = self.client.chat_logprobs(messages, max_tokens=4 * n + 8, top=self.top_logprobs)
        answers = parse_answer(str(reply.get("content") or ""), n)
        tokens = int(reply.get("prompt_tokens") or 0)
        if answers is None:
            return Verdict([None] * n, tokens)
        probs = _slot_probabilities(reply.get("logprobs") or [], n)
        if probs is None:
            probs = [1.0 if a else 0.0 for a in answers]
        return Verdict(probs, tokens)


def _slot_probabilities(entries: Sequence[dict[str, Any]], n: int) -> list[float | None] | None:
    """P(1)/(P(1)+P(0)) at each answer token of a reply's logprobs, or None if they do not fit."""
    def digit(token: str) -> str | None:
        core = token.strip().strip("[],").strip()
        return core if core in ("0", "1") else None

    out: list[float | None] = []
    for entry in entries:
        if digit(str(entry.get("token", ""))) is None:
            continue
        mass = {"0": 0.0, "1": 0.0}
        for token, logprob in (entry.get("top") or {}).items():
            d = digit(token)
            if d is not None:
                mass[d] += float(np.exp(logprob))
        total = mass["0"] + mass["1"]
        out.append(mass["1"] / total if total > 0 else None)
    return out if len(out) == n else None


def make_judge(backend: Any, local_model: Any = None) -> Judge:
    """A judge for a :class:`~superpose.explainer.clients.Backend`: a local model (``local_model``,
    a loaded model to share, or loaded from ``backend.model``) or an OpenAI-compatible server."""
    from superpose.explainer.clients import DiskCache, make_client

    cache = DiskCache(backend.cache) if backend.cache else None
    if backend.kind == "local":
        if local_model is None:
            from superpose.explainer.local_models import load_local_model

            local_model = load_local_model(backend.model, device=backend.placement)
        return LocalJudge(local_model.model, local_model.tokenizer,
                          local_model.name + local_model.placement.name_suffix(), cache)
    return ServerJudge(make_client(backend))


# ---- metrics and scores --------------------------------------------------------------------------

def classification_metrics(truth: Sequence[bool], probabilities: Sequence[float | None]
                           ) -> dict[str, Score]:
    """Balanced accuracy, F1, accuracy (answer yes when P(1) >= 0.5) and the AUC of P(1) of the
    true examples against the false ones. Examples without an answer are left out."""
    pairs = [(bool(t), float(p)) for t, p in zip(truth, probabilities, strict=True) if p is not None]
    pos = [p for t, p in pairs if t]
    neg = [p for t, p in pairs if not t]
    if not pos or not neg:
        reason = "no answered examples of " + ("either kind" if not pairs else
                                              "the false kind" if pos else "the true kind")
        return {k: undefined(reason) for k in ("balanced_accuracy", "f1", "accuracy", "auc")}
    tp = sum(p >= 0.5 for p in pos)
    tn = sum(p < 0.5 for p in neg)
    fp, fn = len(neg) - tn, len(pos) - tp
    return {"balanced_accuracy": Score((tp / len(pos) + tn / len(neg)) / 2),
            "f1": Score(2 * tp / (2 * tp + fp + fn)),
            "accuracy": Score((tp + tn) / len(pairs)),
            "auc": auc(pos, neg)}


@dataclass(frozen=True)
class ClassifierScore(Score):
    """Balanced accuracy as the value, with the other metrics, counts and cost beside it."""

    details: dict[str, Any] = field(default_factory=dict)

    def extra_json(self, name: str) -> dict[str, Any]:
        """Keys written next to the score in a scores row (``detection_f1``, ...)."""
        return {f"{name}_{k}": v for k, v in self.details.items()}


def judge_probabilities(task: Task, explanation: str, examples: Sequence[Example], judge: Judge,
                        params: ClassifierParams, cost: Cost | None = None) -> list[float | None]:
    """P(1) of each example, asked in prompts of ``params.examples_per_prompt`` examples (the
    last one shorter); ``cost`` (when given) adds up what the prompts cost."""
    if not explanation or not explanation.strip():
        raise ValueError("the explanation is empty")
    probabilities: list[float | None] = []
    size = params.examples_per_prompt
    for start in range(0, len(examples), size):
        batch = [e.text() for e in examples[start:start + size]]
        verdict = judge.verdict(task, explanation, batch, per_prompt=size)
        probabilities += verdict.probabilities
        if cost is not None:
            cost.prompts += 1
            cost.prompt_tokens += verdict.prompt_tokens
            cost.computed_tokens += verdict.computed_tokens
            cost.cached += verdict.cached
            cost.failed += sum(p is None for p in verdict.probabilities)
    return probabilities


def judge_examples(task: Task, explanation: str, examples: Sequence[Example], judge: Judge,
                   params: ClassifierParams) -> ClassifierScore:
    """Ask ``judge`` about ``examples`` in prompts of ``params.examples_per_prompt``; metrics and cost."""
    cost = Cost()
    wall, cpu = time.monotonic(), time.process_time()
    probabilities = judge_probabilities(task, explanation, examples, judge, params, cost)
    cost.seconds, cost.cpu_seconds = time.monotonic() - wall, time.process_time() - cpu
    truth = [e.truth for e in examples]
    metrics = classification_metrics(truth, probabilities)
    head = metrics["balanced_accuracy"]
    details = {k: s.to_json() for k, s in metrics.items() if k != "balanced_accuracy"}
    details.update(
        n_true=sum(truth), n_false=len(truth) - sum(truth), cost=cost.to_json(),
        judge={"model": judge.name, "method": judge.method, **asdict(params)})
    return ClassifierScore(head.value, head.reason, details)


def _score(task: Task, make: Callable[[Any, ClassifierParams], list[Example]], explanation: str,
           records: Any, judge: Judge, params: ClassifierParams | None, empty: str) -> ClassifierScore:
    params = params or ClassifierParams()
    examples = make(records, params)
    if not examples:
        details: dict[str, Any] = {k: undefined(empty).to_json() for k in ("f1", "accuracy", "auc")}
        details["judge"] = {"model": judge.name, "method": judge.method, **asdict(params)}
        return ClassifierScore(None, empty, details)
    return judge_examples(task, explanation, examples, judge, params)


def detection_score(explanation: str, records: Any, judge: Judge,
                    params: ClassifierParams | None = None) -> ClassifierScore:
    """Detection: does the judge tell activating windows from non-activating ones?"""
    return _score(DETECTION, detection_examples, explanation, records, judge, params,
                  "no record the explainer did not see reaches the activation threshold")


def fuzzing_score(explanation: str, records: Any, judge: Judge,
                  params: ClassifierParams | None = None) -> ClassifierScore:
    """Fuzzing: does the judge tell truly marked active tokens from wrongly marked ones?"""
    return _score(FUZZING, fuzzing_examples, explanation, records, judge, params,
                  "no activating record has tokens both above and below the activation threshold")


@dataclass(frozen=True)
class Judging:
    """What the detection and fuzzing scorers need beside the records: a judge and the params."""

    judge: Judge
    params: ClassifierParams = field(default_factory=ClassifierParams)


class ClassifierScorer:
    """Base of the detection and fuzzing scorers of the registry (input side)."""

    side: ClassVar[str] = "input"
    name: ClassVar[str]
    function: ClassVar[Callable[..., ClassifierScore]]

    def score(self, evidence: Any) -> Score:
        judging = getattr(evidence, "judge", None)
        if judging is None:
            raise ValueError(f"the {self.name} scorer needs a judge (score --judge-model)")
        records = getattr(evidence, "records", None) or evidence.split
        if records is None:
            raise ValueError(f"the {self.name} scorer needs activation records")
        return type(self).function(evidence.explanation, records, judging.judge, judging.params)
