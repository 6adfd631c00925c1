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
* **Order.** The examples are shuffled with a seed drawn from ``seed`` and what the unit's
  examples show (their sequence numbers and tokens, hashed: :func:`order_seed`), so each unit
  gets its own order. A judge that prefers some positions (a small one answers by position)
  then cannot line up with the truth the same way on every unit, as it did when every unit with
  as many examples shared one order (``order="shared"``, kept to reproduce older results).
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

import copy
import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, ClassVar

import numpy as np

from superpose.config import ClassifierParams
from superpose.core.errors import SuperposeError
from superpose.explainer.scoring import Score, auc, undefined

__all__ = ["ClassifierParams", "ClassifierScore", "Cost", "Example", "Judging", "LocalJudge",
           "ServerJudge", "classification_metrics", "detection_examples", "detection_score",
           "draw_records", "fuzzing_examples", "fuzzing_score", "judge_probabilities",
           "make_judge", "order_seed", "prompt_id"]

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


def order_seed(examples: Sequence[Example], params: ClassifierParams, task: int) -> int:
    """The seed of a unit's example order: ``params.seed``, the task (1 detection, 2 fuzzing)
    and what the examples show (sequence numbers and tokens; not their truth), hashed, so two
    units differ in order and every explanation of one unit sees the same order."""
    shown = json.dumps([params.seed, task, [[e.sequence, e.tokens] for e in examples]])
    return int.from_bytes(hashlib.sha256(shown.encode()).digest()[:8], "little")


def _shuffled(examples: list[Example], params: ClassifierParams, task: int,
              shared: np.random.Generator) -> tuple[list[Example], int | None]:
    """The examples in the unit's order and its seed; ``order="shared"``: in the order of the
    earlier rule (``shared``, a generator seeded by ``params.seed`` alone) and seed None."""
    if params.order == "shared":
        shared.shuffle(examples)  # type: ignore[arg-type]
        return examples, None
    seed = order_seed(examples, params, task)
    np.random.default_rng(seed).shuffle(examples)  # type: ignore[arg-type]
    return examples, seed


def _detection(records: Any, params: ClassifierParams) -> tuple[list[Example], int | None]:
    positives, negatives, _ = draw_records(records, params)
    return _shuffled(positives + negatives, params, 1, np.random.default_rng([params.seed, 1]))


def detection_examples(records: Any, params: ClassifierParams) -> list[Example]:
    """Whole windows, activating (truth 1) and non-activating (truth 0), in the unit's order
    (:func:`order_seed`)."""
    return _detection(records, params)[0]


def fuzzing_examples(records: Any, params: ClassifierParams) -> list[Example]:
    """Each activating window twice: marks on its active tokens (truth 1), and the same number
    of marks on tokens below the threshold (truth 0), in the unit's order (:func:`order_seed`)."""
    return _fuzzing(records, params)[0]


def _fuzzing(records: Any, params: ClassifierParams) -> tuple[list[Example], int | None]:
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
    return _shuffled(examples, params, 2, rng)


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
        """The explanation, how many answers to give, then the examples numbered ``k:``. The
        count comes before the examples so that it is part of the start a unit's prompts
        share (computed once), and the short labels keep each prompt's own tokens few."""
        listing = "\n".join(f"{i + 1}: {text}" for i, text in enumerate(examples))
        return f"Explanation: {explanation}\n\nGive {len(examples)} answers.\n\n{listing}"

    def messages(self, explanation: str, examples: Sequence[str]) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system}]
        for shot, texts, answer in self.shots:
            out += [{"role": "user", "content": self.user(shot, texts)},
                    {"role": "assistant", "content": answer}]
        return out + [{"role": "user", "content": self.user(explanation, examples)}]


_INTRO = ("You are checking explanations of a unit of a language model. An explanation says what "
          "kind of text makes the unit respond. You get an explanation and some text examples, "
          "one per line as k: text. ")
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


@cache
def prompt_id() -> str:
    """A short hash of the judge's wording (instructions, worked examples, framing), recorded
    with every score so that scores of another wording are never mixed in (``score`` resumes)."""
    shown = [TASKS[name].messages("E", ["x", "y"]) for name in sorted(TASKS)]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:12]

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
    """What judging one unit cost: prompts, their tokens, forward passes, cache hits, wall and
    CPU seconds."""

    prompts: int = 0
    prompt_tokens: int = 0
    computed_tokens: int = 0
    passes: int = 0
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
    prompt's tokens, the tokens the model really computed and its forward passes (0 when
    unknown or cached)."""

    probabilities: list[float | None]
    prompt_tokens: int
    cached: bool = False
    computed_tokens: int = 0
    passes: int = 0


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

    def _answer_many(self, prompts: list[list[dict[str, str]]], sizes: list[int]) -> list[Verdict]:
        """Several prompts of one task and explanation; one at a time unless a judge batches."""
        return [self._answer(m, n) for m, n in zip(prompts, sizes, strict=True)]

    def verdict(self, task: Task, explanation: str, examples: Sequence[str],
                per_prompt: int | None = None) -> Verdict:
        """P(1) of each example; ``per_prompt``: the batch size the examples were cut by (part
        of the cache key; the number of examples when not given)."""
        return self.verdicts(task, explanation, [examples], per_prompt)[0]

    def verdicts(self, task: Task, explanation: str, batches: Sequence[Sequence[str]],
                 per_prompt: int | None = None) -> list[Verdict]:
        """:meth:`verdict` of several prompts (a unit's batches of examples), the uncached ones
        asked together so that a judge can answer them at once."""
        requests = [{"judge": "0/1 list, P(1) per slot", "method": self.method,
                     "examples_per_prompt": int(per_prompt or len(examples)),
                     "messages": task.messages(explanation, examples)} for examples in batches]
        out: list[Verdict | None] = [None] * len(batches)
        if self.cache is not None:
            for i, request in enumerate(requests):
                hit = self.cache.get(self.name, request)
                if hit is not None:
                    data = json.loads(hit)
                    out[i] = Verdict(data["probabilities"], int(data["prompt_tokens"]), cached=True)
        todo = [i for i, v in enumerate(out) if v is None]
        answers = self._answer_many([requests[i]["messages"] for i in todo],
                                    [len(batches[i]) for i in todo]) if todo else []
        for i, verdict in zip(todo, answers, strict=True):
            out[i] = verdict
            if self.cache is not None:
                self.cache.put(self.name, requests[i], json.dumps(
                    {"probabilities": verdict.probabilities, "prompt_tokens": verdict.prompt_tokens}))
        return [v for v in out if v is not None]


class _Context:
    """A key/value cache and the token ids it holds; cut back to a common start and extended.
    ``answer``: the digits the judge gave to the last prompt (the next prompt's first guess)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.cache: Any = None
        self.answer: list[int] = []


class LocalJudge(Judge):
    """A local chat model answering under the list format: at each slot it chooses between the
    tokens "1" and "0" and P(1) is their softmax; greedy, so the verdict is deterministic.

    Prompts share their start: the system prompt and worked examples (every prompt of a task),
    then the explanation (every prompt of a unit). One key/value cache per task keeps the last
    start; the next is cut back to the tokens they share and only the rest is computed, so the
    shared start is computed once, as delphi's served judge reuses its prompt prefix. A unit's
    prompts of one task then go through the model as one batch (:meth:`_answer_many`).
    """

    method = "local chat model, answers decoded as a 0/1 list; P(1) from next-token logits"
    # not part of the cache key: the digit rows of the output layer give the full forward's
    # logits (checked on a probe), so verdicts equal those of the full forward

    def __init__(self, model: Any, tokenizer: Any, name: str, cache: Any = None) -> None:
        super().__init__(cache)
        self.model, self.tokenizer, self.name = model, tokenizer, f"local:{name}"
        ids = {d: tokenizer.encode(d, add_special_tokens=False) for d in ("0", "1", ",", "[")}
        if any(len(v) != 1 for v in ids.values()):
            raise SuperposeError(f"the judge's tokenizer splits one of 0, 1, ',' or '[' ({name}); "
                                 "choose another judge model")
        self._ids = {k: v[0] for k, v in ids.items()}
        self._contexts: dict[str, _Context] = {}
        self._readout: Any = None  # None: not tried yet; False: the model has none
        import inspect

        # transformers 5 renamed past_key_values to cache; accept either.
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters \
            else "past_key_values"

    def prompt_ids(self, messages: list[dict[str, str]]) -> tuple[str, list[int]]:
        """The task's fixed text (system prompt and worked examples) and the prompt's token ids
        up to the answer's opening ``[``: the fixed text and the rest tokenised apart, so every
        prompt of a task starts with the same ids. A special token's text inside an example or
        the explanation is ordinary text (:func:`~superpose.explainer.local_models.render_chat`)."""
        from superpose.explainer.local_models import encode_rendered, render_chat

        full, full_masked = render_chat(self.tokenizer, messages, True)
        fixed, fixed_masked = render_chat(self.tokenizer, messages[:-1], False)
        if not full.startswith(fixed):  # a template that rewrites earlier turns: no split
            fixed = fixed_masked = ""
        return fixed, encode_rendered(self.tokenizer, fixed, fixed_masked) + encode_rendered(
            self.tokenizer, full[len(fixed):], full_masked[len(fixed):]) + [self._ids["["]]

    def _device(self) -> Any:
        from superpose.models.device import module_device

        return module_device(self.model)

    def _digit_readout(self) -> Any:
        """The model's body with the rows of "0" and "1" of its output layer, or False."""
        from superpose.explainer.simulators.all_at_once import numeral_readout

        if self._readout is None:
            self._readout = numeral_readout(self.model, [self._ids["0"], self._ids["1"]]) or False
        return self._readout

    def _logits(self, context: _Context, seq: list[int], read: int) -> tuple[Any, int]:
        """Next-token logits of "0" and "1" (columns in that order) at positions ``read`` .. end
        of ``seq``, computing only what the context does not already hold; the number of tokens
        computed. Only the two digits' rows of the output layer are applied when the model
        allows it (the simulator's :func:`numeral_readout`): the full output layer would be read
        from memory on every pass for two numbers per slot."""
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
        digits = [self._ids["0"], self._ids["1"]]
        inputs = {"input_ids": torch.tensor([new], device=device), "use_cache": True,
                  "attention_mask": torch.ones(1, len(seq), dtype=torch.long, device=device),
                  self._cache_arg: context.cache}
        with torch.inference_mode():
            if self._digit_readout():
                keep = torch.zeros(1, len(new), dtype=torch.bool, device=device)
                keep[0, read - common:] = True
                logits, out = self._readout.with_output(keep, **inputs)
            else:
                out = self.model(logits_to_keep=len(seq) - read, **inputs)
                logits = out.logits[0][:, digits]
        context.cache, context.ids = getattr(out, self._cache_arg), list(seq)
        return logits.double(), len(new)

    def _answer(self, messages: list[dict[str, str]], n: int, first: list[int] | None = None) -> Verdict:
        """Greedy decoding of the list, checked in as few forward passes as possible.

        The answer is fed as a guess behind the prompt in one pass; the logits at every slot then
        say whether the model would have written that digit. At the first slot where it would
        not, the digit is corrected, the later slots take the choices of this pass, and only the
        tokens from there on are fed again. The result is exactly sequential greedy decoding
        (each P(1) is read after the model's own earlier answers), in a few passes instead of n.
        The first guess is the answer the judge gave to the task's previous prompt (all ones at
        first; ``first`` when given): a small judge answers much by position, so it usually
        holds and the prompt takes one pass.
        """
        fixed, base = self.prompt_ids(messages)
        context = self._contexts.setdefault(fixed, _Context())
        guess = self._guess(first or context.answer, n)
        probabilities: list[float | None] = [None] * n
        computed, passes = self._decode(context, base, guess, probabilities, 0)
        context.answer = self._choices(probabilities)
        return Verdict(probabilities, len(base), computed_tokens=computed, passes=passes)

    def _choices(self, probabilities: Sequence[float | None]) -> list[int]:
        """The digit greedy decoding writes at each slot ("0" where there is no answer)."""
        return [self._ids["1"] if (p or 0) >= 0.5 else self._ids["0"] for p in probabilities]

    def _guess(self, previous: list[int], n: int) -> list[int]:
        """A prompt's first guess: the previous answer's digits, padded with ones, cut to ``n``."""
        return (previous + [self._ids["1"]] * n)[:n]

    def _decode(self, context: _Context, base: list[int], guess: list[int],
                probabilities: list[float | None], done: int) -> tuple[int, int]:
        """The loop of :meth:`_answer` from slot ``done`` on (the slots before it are known and
        ``guess`` holds their digits); fills ``probabilities``; the tokens computed and passes."""
        import torch

        one, zero, comma = self._ids["1"], self._ids["0"], self._ids[","]
        n = len(guess)
        computed, passes = 0, 0
        while done < n:
            # "[d0,d1,...,d(n-2)," : the last digit's own logits are never read
            answer = [t for k, d in enumerate(guess[:-1]) for t in (d, comma)]
            read = len(base) - 1 + 2 * done  # the position whose next token is slot `done`
            logits, fed = self._logits(context, base + answer, read)
            computed, passes = computed + fed, passes + 1
            start = done
            slots = [float(torch.sigmoid(logits[2 * (k - start), 1] - logits[2 * (k - start), 0]))
                     for k in range(start, n)]
            for k in range(start, n):
                p = slots[k - start]
                probabilities[k], done = p, k + 1
                if (one if p >= 0.5 else zero) != guess[k]:
                    # the next guess: this pass's own choices (read after the wrong digit; they
                    # usually hold, and each slot is checked again anyway)
                    guess[k:] = self._choices(slots[k - start:])
                    break
        return computed, passes

    @staticmethod
    def _row_context(cache: Any, row: int, ids: list[int]) -> _Context | None:
        """A context holding one row of a batch's key/value cache, cut to ``ids`` (that row's
        first tokens), without copying: each layer's tensors are sliced, and the batch's cache
        is left as it was. None for a cache whose layers are not plain growing ones."""
        from transformers.cache_utils import DynamicLayer

        layers = getattr(cache, "layers", None)
        if not layers or any(type(layer) is not DynamicLayer for layer in layers):
            return None
        copy_ = copy.copy(cache)
        copy_.layers = [copy.copy(layer) for layer in layers]
        for layer in copy_.layers:
            if layer.is_initialized:
                layer.keys = layer.keys[row:row + 1, :, :len(ids)]
                layer.values = layer.values[row:row + 1, :, :len(ids)]
        context = _Context()
        context.cache, context.ids = copy_, list(ids)
        return context

    def _answer_many(self, prompts: list[list[dict[str, str]]], sizes: list[int]) -> list[Verdict]:
        """A unit's prompts of one task in one batched forward pass behind their shared start.

        The start every prompt shares (instructions, worked examples, explanation) is brought
        into the task's key/value cache once; the rows (each prompt's examples and its guessed
        answer, right-padded) then go through the model together, which pays the fixed cost of
        a pass (reading every weight) once instead of once per prompt. A row whose guess does
        not hold at some slot is decoded again alone from its prompt (:meth:`_answer`, starting
        from this pass's choices), so every verdict is still exact greedy decoding.
        """
        import torch

        encoded = [self.prompt_ids(m) for m in prompts]
        fixed = encoded[0][0]
        context = self._contexts.setdefault(fixed, _Context())
        if len(prompts) < 2 or any(f != fixed for f, _ in encoded):
            return super()._answer_many(prompts, sizes)
        comma = self._ids[","]
        guesses = [self._guess(context.answer, n) for n in sizes]
        rows = [base + [t for d in g[:-1] for t in (d, comma)] for (_, base), g in zip(encoded, guesses, strict=True)]
        shared = min(len(base) for _, base in encoded) - 1
        while any(row[:shared] != rows[0][:shared] for row in rows):
            shared -= 1
        if shared < 2 or not self._digit_readout():
            return super()._answer_many(prompts, sizes)
        _, computed = self._logits(context, rows[0][:shared], shared - 1)  # the shared start, cached
        if not hasattr(context.cache, "batch_repeat_interleave"):
            return super()._answer_many(prompts, sizes)
        cache = copy.deepcopy(context.cache)
        cache.batch_repeat_interleave(len(rows))
        width = max(len(r) for r in rows) - shared
        device = self._device()
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), shared + width, dtype=torch.long)
        keep = torch.zeros(len(rows), width, dtype=torch.bool)
        for i, ((_, base), row) in enumerate(zip(encoded, rows, strict=True)):
            ids[i, :len(row) - shared] = torch.tensor(row[shared:])
            mask[i, :len(row)] = 1
            keep[i, len(base) - 1 - shared:len(row) - shared] = True
        with torch.inference_mode():
            logits, _ = self._readout.with_output(
                keep.to(device), input_ids=ids.to(device), attention_mask=mask.to(device),
                use_cache=True, **{self._cache_arg: cache})
        logits = logits.double()
        out, at = [], 0
        for i, ((_, base), row, guess, n) in enumerate(zip(encoded, rows, guesses, sizes, strict=True)):
            read = logits[at:at + len(row) - len(base) + 1:2]  # the digit slots, commas skipped
            at += len(row) - len(base) + 1
            probs = [float(torch.sigmoid(r[1] - r[0])) for r in read]
            choice = self._choices(probs)
            fed = len(row) - shared + (computed if i == 0 else 0)
            passes = 2 if i == 0 else 0  # the shared start's pass and the batch's, on the first row
            if choice[:-1] == guess[:n - 1]:  # every digit fed was the model's own choice
                out.append(Verdict(probs, len(base), computed_tokens=fed, passes=passes))
                context.answer = choice
                continue
            # The first slot whose fed digit was not the model's choice: every slot up to it is
            # exact (read after the model's own digits). The row's keys and values up to that
            # digit are in the batch's cache, so decoding goes on from there.
            wrong = next(k for k in range(n - 1) if choice[k] != guess[k])
            own = self._row_context(cache, i, row[:len(base) + 2 * wrong])
            if own is None:  # a cache that cannot be sliced: this prompt again from its start
                again = self._answer(prompts[i], n, choice)
                out.append(Verdict(again.probabilities, len(base), computed_tokens=fed + again.computed_tokens,
                                   passes=passes + again.passes))
                continue
            kept: list[float | None] = [*probs[:wrong + 1], *[None] * (n - wrong - 1)]
            more, extra = self._decode(own, base, list(choice), kept, wrong + 1)
            out.append(Verdict(kept, len(base), computed_tokens=fed + more, passes=passes + extra))
            context.answer = self._choices(kept)
        return out


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
    batches = [[e.text() for e in examples[start:start + size]] for start in range(0, len(examples), size)]
    for verdict in judge.verdicts(task, explanation, batches, per_prompt=size):
        probabilities += verdict.probabilities
        if cost is not None:
            cost.prompts += 1
            cost.prompt_tokens += verdict.prompt_tokens
            cost.computed_tokens += verdict.computed_tokens
            cost.passes += verdict.passes
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
        judge=_settings(judge, params))
    return ClassifierScore(head.value, head.reason, details)


def _settings(judge: Judge, params: ClassifierParams) -> dict[str, Any]:
    """The judge and example settings recorded with a score (what ``score`` checks on resume)."""
    return {"model": judge.name, "method": judge.method, "prompt": prompt_id(), **asdict(params)}


def _score(task: Task, make: Callable[[Any, ClassifierParams], tuple[list[Example], int | None]],
           explanation: str, records: Any, judge: Judge, params: ClassifierParams | None,
           empty: str) -> ClassifierScore:
    params = params or ClassifierParams()
    examples, seed = make(records, params)
    if not examples:
        details: dict[str, Any] = {k: undefined(empty).to_json() for k in ("f1", "accuracy", "auc")}
        details["judge"] = _settings(judge, params)
        return ClassifierScore(None, empty, details)
    score = judge_examples(task, explanation, examples, judge, params)
    score.details["order_seed"] = seed
    return score


def detection_score(explanation: str, records: Any, judge: Judge,
                    params: ClassifierParams | None = None) -> ClassifierScore:
    """Detection: does the judge tell activating windows from non-activating ones?"""
    return _score(DETECTION, _detection, explanation, records, judge, params,
                  "no record the explainer did not see reaches the activation threshold")


def fuzzing_score(explanation: str, records: Any, judge: Judge,
                  params: ClassifierParams | None = None) -> ClassifierScore:
    """Fuzzing: does the judge tell truly marked active tokens from wrongly marked ones?"""
    return _score(FUZZING, _fuzzing, explanation, records, judge, params,
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
