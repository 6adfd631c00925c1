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

__all__ = ["ClassifierParams", "ClassifierScore", "Example", "Judging", "LocalJudge",
           "ServerJudge", "classification_metrics", "detection_examples", "detection_score",
           "draw_records", "fuzzing_examples", "fuzzing_score", "make_judge"]

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
    """A judge's instructions and worked examples (our own wording)."""

    name: str
    system: str
    shots: tuple[tuple[str, tuple[str, ...], str], ...]  # (explanation, examples, answer)

    def user(self, explanation: str, examples: Sequence[str]) -> str:
        listing = "\n".join(f"Example {i + 1}: {text}" for i, text in enumerate(examples))
        return f"Explanation: {explanation}\n\n{listing}\n\nAnswer with {len(examples)} numbers."

    def messages(self, explanation: str, examples: Sequence[str]) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system}]
        for shot, texts, answer in self.shots:
            out += [{"role": "user", "content": self.user(shot, texts)},
                    {"role": "assistant", "content": answer}]
        return out + [{"role": "user", "content": self.user(explanation, examples)}]


_ANSWER = ("Reply with a list of 1s and 0s, one per example in order, such as [1,0,1], and "
           "nothing else.")

DETECTION = Task(
    "detection",
    "You are checking explanations of a unit of a language model. An explanation says what "
    "kind of text makes the unit respond. You get an explanation and a few numbered text "
    "examples. For each example, answer 1 if the text contains what the explanation "
    "describes, or 0 if it does not. " + _ANSWER,
    (("mentions of rivers and lakes",
      ("we walked along the bank of the Danube until dusk", "the invoice was paid on Tuesday",
       "fishing boats crossed Lake Geneva every morning", "she tuned the old violin",
       "he plugged in the kettle and waited"), "[1,0,1,0,0]"),
     ("the word 'not' after a verb",
      ("the shop was closed, so we went home", "I do not think so, he said",
       "they did not arrive before noon", "the roof leaked all winter",
       "please do not touch the paintings"), "[0,1,1,0,1]")))

FUZZING = Task(
    "fuzzing",
    "You are checking explanations of a unit of a language model. An explanation says what "
    "kind of text makes the unit respond, and in each example the parts where it responds are "
    "said to be marked between << and >>. Some marks are wrong. For each example, answer 1 if "
    "every marked part is what the explanation describes, or 0 if any marked part is not. "
    + _ANSWER,
    (("mentions of rivers and lakes",
      ("we walked along the bank of the <<Danube>> until dusk",
       "fishing boats <<crossed>> Lake Geneva every morning",
       "the ferry left <<Lake Como>> at noon", "we swam in the <<Thames>> last summer",
       "<<the>> Nile floods every year"), "[1,0,1,1,0]"),
     ("the word 'not' after a verb",
      ("I do <<not>> think so, he said", "they did not <<arrive>> before noon",
       "please do <<not>> touch the paintings", "it is <<not>> raining any more",
       "we could not <<find>> the key"), "[1,0,1,1,0]")))

TASKS = {t.name: t for t in (DETECTION, FUZZING)}


def parse_answer(text: str, n: int) -> list[bool] | None:
    """The first bracketed list of n answers (1/0, yes/no, true/false) in a reply, or None."""
    match = re.search(r"\[([^\[\]]*)\]", text)
    if match is None:
        return None
    words = [w.strip().strip("'\"").lower() for w in match.group(1).split(",")]
    yes, no = {"1", "yes", "true"}, {"0", "no", "false"}
    if len(words) != n or any(w not in yes | no for w in words):
        return None
    return [w in yes for w in words]


# ---- judges ------------------------------------------------------------------------------------

@dataclass
class Cost:
    """What judging one unit cost: prompts, their tokens, cache hits, wall and CPU seconds."""

    prompts: int = 0
    prompt_tokens: int = 0
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
    """A judge's answer to one prompt: P(1) per example (None where it gave no answer)."""

    probabilities: list[float | None]
    prompt_tokens: int
    cached: bool = False


class Judge:
    """Answers a task's prompt for a few examples; subclasses implement :meth:`_answer`.

    The verdict of a (task, explanation, examples) prompt is cached in a
    :class:`~superpose.explainer.clients.DiskCache` when one is given, keyed by the judge's name and
    the whole prompt, so a rerun costs nothing.
    """

    name: str = "judge"
    method: str = ""

    def __init__(self, cache: Any = None) -> None:
        self.cache = cache

    def _answer(self, messages: list[dict[str, str]], n: int) -> Verdict:
        raise NotImplementedError

    def verdict(self, task: Task, explanation: str, examples: Sequence[str]) -> Verdict:
        messages = task.messages(explanation, examples)
        request = {"judge": "0/1 list, P(1) per slot", "method": self.method, "messages": messages}
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


class LocalJudge(Judge):
    """A local chat model answering under the list format: at each slot it chooses between the
    tokens "1" and "0" and P(1) is their softmax; greedy, so the verdict is deterministic.

    The system prompt and worked examples are the same in every prompt of a task: their keys and
    values are computed once and reused.
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
        self._prefixes: dict[str, tuple[list[int], Any]] = {}
        import inspect

        # transformers 5 renamed past_key_values to cache; accept either.
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters \
            else "past_key_values"

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _render(self, messages: list[dict[str, str]], prompt: bool) -> str:
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=prompt))

    def _prefix(self, messages: list[dict[str, str]]) -> tuple[str, list[int], Any]:
        """The text, ids and key/value cache of everything before the last user turn."""
        import torch

        text = self._render(messages[:-1], False)
        if text not in self._prefixes:
            ids = self._encode(text)
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([ids], device=self._device()), use_cache=True)
            self._prefixes[text] = (ids, getattr(out, self._cache_arg))
        ids, cache = self._prefixes[text]
        return text, ids, cache

    def _device(self) -> Any:
        from superpose.models.device import module_device

        return module_device(self.model)

    def _answer(self, messages: list[dict[str, str]], n: int) -> Verdict:
        """Greedy decoding of the list, checked in as few forward passes as possible.

        The answer is fed as a guess (all slots equal to the first answer) behind the prompt in
        one pass; the logits at every slot then say whether the model would have written that
        digit. At the first slot where it would not, the cache is cut back, the digit corrected
        and the rest fed again. The result is exactly sequential greedy decoding (each P(1) is
        read after the model's own earlier answers), usually in one or two passes instead of n.
        """
        import copy

        import torch

        full = self._render(messages, True)
        head, ids, prefix = self._prefix(messages)
        if not full.startswith(head):  # a template that rewrites earlier turns: no reuse
            head, ids, prefix = "", [], None
        rest = self._encode(full[len(head):]) + [self._ids["["]]
        one, zero, comma = self._ids["1"], self._ids["0"], self._ids[","]
        guess = [one] * n
        probabilities: list[float | None] = [None] * n
        cache = copy.deepcopy(prefix) if prefix is not None else None
        done, fed = 0, 0  # slots final; tokens after the prefix already in the cache
        device = self._device()
        while done < n:
            seq = rest + [t for k, d in enumerate(guess) for t in ((comma, d) if k else (d,))]
            new = seq[fed:]
            keep = min(len(new), 2 * n)  # logits of the last 2n positions hold every slot's
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([new], device=device),
                                 attention_mask=torch.ones(1, len(ids) + len(seq), dtype=torch.long,
                                                           device=device),
                                 use_cache=True, logits_to_keep=keep, **{self._cache_arg: cache})
            cache, fed = getattr(out, self._cache_arg), len(seq)
            logits = out.logits[0].double()
            for k in range(done, n):
                row = logits[len(rest) - 1 + 2 * k - (len(seq) - keep)]
                p = float(torch.sigmoid(row[one] - row[zero]))
                probabilities[k], done = p, k + 1
                choice = one if p >= 0.5 else zero
                if choice != guess[k]:
                    guess[k:] = [choice] * (n - k)
                    fed = self._cut(cache, len(ids) + fed, len(ids) + len(rest) + 2 * k) - len(ids)
                    if fed < 0:  # the cache cannot be cut: start again from the prefix
                        cache, fed = copy.deepcopy(prefix) if prefix is not None else None, 0
                    break
        return Verdict(probabilities, len(ids) + len(rest))

    @staticmethod
    def _cut(cache: Any, length: int, keep: int) -> int:
        """Drop the cached positions from ``keep`` on; the new length, or -1 if it cannot."""
        try:
            cache.crop(keep - length)  # a negative value removes that many positions
        except (AttributeError, ValueError, TypeError):
            return -1
        return keep


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


def judge_examples(task: Task, explanation: str, examples: Sequence[Example], judge: Judge,
                   params: ClassifierParams) -> ClassifierScore:
    """Ask ``judge`` about ``examples`` in prompts of ``params.examples_per_prompt``; metrics and cost."""
    if not explanation or not explanation.strip():
        raise ValueError("the explanation is empty")
    cost = Cost()
    wall, cpu = time.monotonic(), time.process_time()
    probabilities: list[float | None] = []
    size = params.examples_per_prompt
    for start in range(0, len(examples), size):
        batch = [e.text() for e in examples[start:start + size]]
        verdict = judge.verdict(task, explanation, batch)
        probabilities += verdict.probabilities
        cost.prompts += 1
        cost.prompt_tokens += verdict.prompt_tokens
        cost.cached += verdict.cached
        cost.failed += sum(p is None for p in verdict.probabilities)
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
