"""Detection and fuzzing: examples drawn from records, marks, metrics, the judges, cache, resuming."""

import json
import re

import numpy as np
import pytest

from superpose.activations.formats import ActivationRecord, NeuronRecords, read_jsonl
from superpose.core.errors import SuperposeError
from superpose.explainer.clients import DiskCache
from superpose.explainer.jobs import run_score
from superpose.explainer.scorers import get_scorer, scorer_names
from superpose.explainer.scorers.classifier import (
    LEFT,
    RIGHT,
    ClassifierParams,
    Judge,
    Judging,
    Verdict,
    _slot_probabilities,
    classification_metrics,
    detection_examples,
    detection_score,
    draw_records,
    fuzzing_examples,
    fuzzing_score,
    order_seed,
    parse_answer,
    prompt_id,
)
from tests.llm_helpers import make_records


class KeywordJudge(Judge):
    """Says yes (0.9) when the explanation's word is in the example (fuzzing: in every marked
    run), else no (0.2); counts the prompts it really answers."""

    name = "keyword-judge"
    method = "test"

    def __init__(self, cache=None):
        super().__init__(cache)
        self.calls = 0

    def _answer(self, messages, n):
        self.calls += 1
        user = messages[-1]["content"]
        word = user.split("\n")[0].removeprefix("Explanation: ").strip()
        texts = re.findall(r"^\d+: (.*)$", user, flags=re.M)
        assert len(texts) == n
        out = []
        for text in texts:
            runs = re.findall(re.escape(LEFT) + "(.*?)" + re.escape(RIGHT), text)
            hit = all(word in r for r in runs) if runs else word in text
            out.append(0.9 if hit else 0.2)
        return Verdict(out, prompt_tokens=len(user.split()))


def _record(peak_at, peak, seq, n=40, kind="top", word=" fire"):
    acts = np.zeros(n)
    if peak_at is not None:
        acts[peak_at] = peak
        acts[max(0, peak_at - 1)] = max(acts[max(0, peak_at - 1)], 0.5 * peak)
    tokens = [f" w{seq}_{i}" for i in range(n)]
    if peak_at is not None:
        tokens[peak_at] = word
    return ActivationRecord(tokens, acts, seq, kind)


def _unit(offset=0):
    """40 top records with peaks 40..1 (" fire" at the peak; below 30% of the largest, " ember")
    and 40 quiet random records (peak 0.1 on " calm"); ``offset`` shifts the sequence numbers
    (and so the tokens): another unit of the same shape."""
    top = [_record(20 + i % 10, float(40 - i), offset + i, word=" fire" if 40 - i >= 12 else " ember")
           for i in range(40)]
    rand = [_record(5, 0.1, offset + 100 + i, kind="random", word=" calm") for i in range(40)]
    return NeuronRecords("m", 0, offset, top, rand)


# ---- metrics ------------------------------------------------------------------------------------

def test_metrics_on_known_cases():
    m = classification_metrics([True, True, False, False], [0.9, 0.4, 0.6, 0.1])
    assert m["balanced_accuracy"].value == pytest.approx(0.5)  # tp 1, fn 1, tn 1, fp 1
    assert m["f1"].value == pytest.approx(0.5)
    assert m["auc"].value == pytest.approx(0.75)  # 3 of the 4 (pos, neg) pairs ordered right
    perfect = classification_metrics([True, False, False], [0.7, 0.2, 0.3])
    assert perfect["balanced_accuracy"].value == 1 and perfect["f1"].value == 1
    assert perfect["auc"].value == 1
    # all yes: recall 1, specificity 0; precision 1/3 -> F1 0.5; unanswered examples left out
    lazy = classification_metrics([True, False, False, True], [0.8, 0.8, 0.8, None])
    assert lazy["balanced_accuracy"].value == pytest.approx(0.5)
    assert lazy["f1"].value == pytest.approx(0.5) and lazy["auc"].value == pytest.approx(0.5)
    assert lazy["accuracy"].value == pytest.approx(1 / 3)
    none = classification_metrics([True, True], [0.9, 0.1])
    assert none["balanced_accuracy"].value is None and "false kind" in none["auc"].reason


def test_answers_and_logprobs_are_parsed():
    assert parse_answer("Sure: [1, 0,1]", 3) == [True, False, True]
    assert parse_answer("[yes, no]", 2) == [True, False]
    assert parse_answer("[1,0]", 3) is None and parse_answer("no list", 1) is None
    # spaces, quotes, semicolons; a first bracketed group that is not the answer is skipped
    assert parse_answer("[ '1' ; \"0\" 1 ]", 3) == [True, False, True]
    assert parse_answer("For [Example 1] and [Example 2]: [0, 1]", 2) == [False, True]
    assert parse_answer("[1,0,2]", 3) is None and parse_answer("[1,0,1", 3) is None
    assert parse_answer("[1,0,1,1]", 3) is None  # too many answers: failed, not cut
    entries = [{"token": "[", "top": {"[": 0.0}},
               {"token": "1", "top": {"1": np.log(0.6), "0": np.log(0.2), "x": np.log(0.2)}},
               {"token": ",", "top": {",": 0.0}},
               {"token": "0", "top": {"0": np.log(0.9), " 1": np.log(0.1)}},
               {"token": "]", "top": {"]": 0.0}}]
    probs = _slot_probabilities(entries, 2)
    assert probs == pytest.approx([0.75, 0.1])
    assert _slot_probabilities(entries, 3) is None


# ---- examples -----------------------------------------------------------------------------------

def test_examples_are_drawn_across_quantiles_never_from_the_explainers_records():
    unit, params = _unit(), ClassifierParams(n_activating=10, n_non_activating=6, n_quantiles=5)
    positives, negatives, threshold = draw_records(unit, params)
    assert threshold == pytest.approx(0.3 * 40)
    explain = {r.sequence for r in unit.split().explain}
    assert len(positives) == 10 and len(negatives) == 6
    assert not explain & {e.sequence for e in positives + negatives}
    # candidates: top ranks 1 and 3 mod 4 with peak >= 12 -> 14 records in 5 groups
    assert sorted({e.quantile for e in positives}) == [0, 1, 2, 3, 4]
    assert all(e.activations.max() >= threshold for e in positives)
    assert all(e.activations.max() < threshold and e.quantile == -1 for e in negatives)
    peaks = {q: [e.activations.max() for e in positives if e.quantile == q] for q in range(5)}
    assert min(peaks[0]) > max(peaks[4])  # group 0 holds the strongest records
    # windows of 16 tokens (the default) with the peak three quarters of the way in
    for e in positives:
        at = int(np.argmax(e.activations))
        assert len(e.tokens) == 16 and e.tokens[at] == " fire" and at == 12
    # 32 tokens: as far in as the record allows (peaks at 20-29 of 40 tokens land at min(peak, 24))
    for e in draw_records(unit, ClassifierParams(n_activating=10, n_non_activating=6, window=32))[0]:
        at = int(np.argmax(e.activations))
        assert len(e.tokens) == 32 and e.tokens[at] == " fire" and at == min(20 + e.sequence % 10, 24)
    again = detection_examples(unit, params)
    assert [e.text() for e in again] == [e.text() for e in detection_examples(unit, params)]
    other = detection_examples(unit, ClassifierParams(n_activating=10, n_non_activating=6, seed=1))
    assert [e.text() for e in other] != [e.text() for e in again]


def test_a_group_short_of_records_passes_its_share_on():
    top = [_record(3, 10.0, i, n=8) for i in range(3)]
    params = ClassifierParams(n_activating=6, n_non_activating=0, n_quantiles=3, window=0)
    positives, negatives, _ = draw_records(top, params)
    assert len(positives) == 3 and not negatives  # every record, none twice
    assert sorted(e.sequence for e in positives) == [0, 1, 2]


def test_fuzzing_marks_the_active_tokens_or_as_many_wrong_ones():
    unit, params = _unit(), ClassifierParams(n_activating=6, n_non_activating=0)
    examples = fuzzing_examples(unit, params)
    _, _, threshold = draw_records(unit, params)
    assert len(examples) == 12 and sum(e.truth for e in examples) == 6
    by_seq: dict = {}
    for e in examples:
        by_seq.setdefault(e.sequence, {})[e.truth] = e
    for pair in by_seq.values():
        right, wrong = pair[True], pair[False]
        assert right.marks == tuple(np.flatnonzero(right.activations >= threshold))
        assert len(wrong.marks) == len(right.marks)
        assert all(wrong.activations[i] < threshold for i in wrong.marks)
        # one run: the peak, with its neighbour when that is at or above the threshold
        assert right.text().count(LEFT) == 1 and "fire" + RIGHT in right.text()
        assert f" {LEFT}fire" in right.text() or f" {LEFT}w{right.sequence}_" in right.text()
    assert [e.text() for e in fuzzing_examples(unit, params)] == [e.text() for e in examples]


# ---- the order of the examples ------------------------------------------------------------------

class PositionJudge(KeywordJudge):
    """Reads nothing: says yes (0.9) to the second and third example of every prompt, else no
    (0.1), as a small judge that answers by position does."""

    name = "position-judge"

    def _answer(self, messages, n):
        self.calls += 1
        return Verdict([0.9 if k in (1, 2) else 0.1 for k in range(n)], prompt_tokens=n)


def test_each_unit_has_its_own_order_so_a_positional_judge_scores_chance_on_average():
    units = [_unit(offset=1000 * i) for i in range(40)]
    params, shared = ClassifierParams(), ClassifierParams(order="shared")
    truths = [[e.truth for e in detection_examples(u, params)] for u in units]
    assert len({tuple(t) for t in truths}) > 30  # units differ in order ...
    old = {tuple(e.truth for e in detection_examples(u, shared)) for u in units}
    assert len(old) == 1  # ... where the earlier rule gave every unit the same one
    # every position holds a true example in about half of the units (binomial 40, p 0.5)
    share = np.mean(truths, axis=0)
    assert share.shape == (20,) and np.all((share >= 0.2) & (share <= 0.8))
    judge = PositionJudge()
    aucs = [detection_score("fire", u, judge, params).details["auc"] for u in units]
    same = {detection_score("fire", u, judge, shared).details["auc"] for u in units}
    assert len(same) == 1  # shared order: the same score on every unit, whatever it reads
    assert len(set(aucs)) > 3 and 0.4 <= np.mean(aucs) <= 0.6
    fuzz = [fuzzing_score("fire", u, judge, params).details["auc"] for u in units[:20]]
    assert len(set(fuzz)) > 3 and 0.35 <= np.mean(fuzz) <= 0.65


def test_a_units_order_is_recorded_and_the_same_for_every_explanation():
    unit, judge, params = _unit(), KeywordJudge(), ClassifierParams()
    a = detection_score("fire", unit, judge, params)
    b = detection_score("water", unit, judge, params)
    seed = a.details["order_seed"]
    assert isinstance(seed, int) and seed == b.details["order_seed"]
    assert seed == detection_score("fire", _unit(), judge, params).details["order_seed"]  # reproducible
    assert seed != detection_score("fire", _unit(offset=7), judge, params).details["order_seed"]
    assert fuzzing_score("fire", unit, judge, params).details["order_seed"] not in (None, seed)
    assert detection_score("fire", unit, judge, ClassifierParams(order="shared")).details["order_seed"] is None
    # the recorded seed gives the order: the drawn examples shuffled by it
    drawn = [e.text() for e in (lambda p, n: p + n)(*draw_records(unit, params)[:2])]
    order = list(range(len(drawn)))
    np.random.default_rng(seed).shuffle(order)
    assert [drawn[i] for i in order] == [e.text() for e in detection_examples(unit, params)]
    assert order_seed(detection_examples(unit, params), params, 1) != seed  # what is shown, not its order


# ---- scores with a deterministic judge ------------------------------------------------------

def test_detection_and_fuzzing_with_a_judge_that_knows_the_word():
    unit, judge = _unit(), KeywordJudge()
    params = ClassifierParams(n_activating=10, n_non_activating=10)
    right = detection_score("fire", unit, judge, params)
    assert right.value == 1.0 and right.details["auc"] == 1.0 and right.details["f1"] == 1.0
    assert right.details["n_true"] == 10 and right.details["n_false"] == 10
    assert right.details["cost"]["prompts"] == 4 and judge.calls == 4
    assert right.details["judge"]["seed"] == 0 and right.details["judge"]["model"] == "keyword-judge"
    wrong = detection_score("water", unit, judge, params)
    assert wrong.value == 0.5 and wrong.details["auc"] == 0.5 and wrong.details["f1"] == 0
    fuzz = fuzzing_score("fire", unit, judge, params)
    assert fuzz.value == 1.0 and fuzz.details["n_true"] == fuzz.details["n_false"] == 10
    # "w" describes the other tokens (" w5_3"...): wrong marks fit it, so it scores below chance
    below = fuzzing_score("w", unit, judge, params)
    assert below.value < 0.5 and below.details["auc"] < 0.5
    assert fuzz.extra_json("fuzzing")["fuzzing_auc"] == 1.0
    dead = NeuronRecords("m", 0, 0, [_record(None, 0, 0)], [])
    assert detection_score("fire", dead, judge, params).value is None


def test_one_example_per_prompt_is_the_per_example_judge():
    unit, judge = _unit(), KeywordJudge()
    batched = detection_score("fire", unit, judge, ClassifierParams())
    single = detection_score("fire", unit, judge, ClassifierParams(examples_per_prompt=1))
    assert batched.details["cost"]["prompts"] == 4 and single.details["cost"]["prompts"] == 20
    assert judge.calls == 24 and single.value == batched.value == 1.0
    seven = detection_score("fire", unit, judge, ClassifierParams(examples_per_prompt=7))
    assert seven.details["cost"]["prompts"] == 3  # 7 + 7 + 6
    with pytest.raises(SuperposeError, match="examples_per_prompt"):
        ClassifierParams(examples_per_prompt=0)


class FailingJudge(KeywordJudge):
    """Answers like a server whose reply has no well-formed list for every second prompt."""

    def _answer(self, messages, n):
        verdict = super()._answer(messages, n)
        if self.calls % 2 == 0:
            return Verdict([None] * n, verdict.prompt_tokens)
        return verdict


def test_a_malformed_answer_counts_its_examples_as_failed():
    score = detection_score("fire", _unit(), FailingJudge(), ClassifierParams())
    cost = score.details["cost"]
    assert cost["prompts"] == 4 and cost["failed"] == 10  # prompts 2 and 4 of 5 examples each
    assert score.details["n_true"] + score.details["n_false"] == 20
    assert score.value == 1.0  # the answered half still scores


def test_verdicts_are_cached_per_prompt(tmp_path):
    unit, params = _unit(), ClassifierParams()
    first = KeywordJudge(DiskCache(tmp_path / "cache"))
    a = detection_score("fire", unit, first, params)
    second = KeywordJudge(DiskCache(tmp_path / "cache"))
    b = detection_score("fire", unit, second, params)
    assert second.calls == 0 and b.details["cost"]["cached"] == b.details["cost"]["prompts"] == 4
    assert b.value == a.value and b.details["auc"] == a.details["auc"]
    detection_score("other words", unit, second, params)
    assert second.calls == 4  # another prompt is asked
    # the batch size is part of the key: a prompt of 5 examples asked with batches of 1 and of
    # 5 (here its last, short batch) is asked again, not read from the other's answers
    texts = [e.text() for e in detection_examples(unit, params)][:1]
    from superpose.explainer.scorers.classifier import DETECTION

    second.verdict(DETECTION, "fire", texts, per_prompt=5)
    assert second.calls == 5 and second.verdict(DETECTION, "fire", texts, per_prompt=5).cached
    assert second.calls == 5
    second.verdict(DETECTION, "fire", texts, per_prompt=1)
    assert second.calls == 6


def test_registry_scorers_need_a_judge():
    assert {"detection", "fuzzing"} <= set(scorer_names("input"))
    from superpose.explainer.scorers import Evidence

    with pytest.raises(ValueError, match="needs a judge"):
        get_scorer("detection").score(Evidence("fire", records=_unit()))
    s = get_scorer("fuzzing").score(Evidence("fire", records=_unit(), judge=Judging(KeywordJudge())))
    assert s.value == 1.0


def test_score_job_writes_metrics_and_cost_and_resumes(tmp_path):
    folder = make_records(tmp_path / "rec")
    out = tmp_path / "scores.jsonl"
    judging = Judging(KeywordJudge(), ClassifierParams(n_activating=3, n_non_activating=3, window=0))
    items = [(0, 0, "alpha"), (0, 1, "zzz"), (0, 2, "alpha")]
    run_score(folder, out, simulator=None, explanations=items, embedding=False,
              scorers=["detection", "fuzzing"], judge=judging, simulation=False, progress=False)
    rows = {r["neuron"]: r for r in read_jsonl(out)}
    assert rows[2]["status"] == "dead"
    ok = rows[0]["scores"]
    assert ok["detection"] == 1.0 and ok["detection_auc"] == 1.0 and ok["fuzzing"] == 1.0
    assert "correlation" not in ok and rows[0]["scorers"] == ["detection", "fuzzing"]
    assert ok["detection_cost"]["prompts"] >= 1 and ok["fuzzing_cost"]["prompt_tokens"] > 0
    assert rows[1]["scores"]["detection"] == 0.5  # the judge says no to everything
    calls = judging.judge.calls
    run_score(folder, out, simulator=None, explanations=items, embedding=False,
              scorers=["detection", "fuzzing"], judge=judging, simulation=False, progress=False)
    assert judging.judge.calls == calls and len(read_jsonl(out)) == 3  # nothing redone
    # rows judged with other example settings (here the window) are not resumed into
    other = Judging(judging.judge, ClassifierParams(n_activating=3, n_non_activating=3, window=16))
    with pytest.raises(SuperposeError, match="detection scores judged with other settings \\(window 0, now 16\\)"):
        run_score(folder, out, simulator=None, explanations=items, embedding=False,
                  scorers=["detection", "fuzzing"], judge=other, simulation=False, progress=False)
    assert judging.judge.calls == calls and len(read_jsonl(out)) == 3
    # ... nor rows judged with the prompts' earlier wording (recorded as its hash)
    text = out.read_text(encoding="utf-8")
    assert text.count(f'"prompt": "{prompt_id()}"') >= 2
    out.write_text(text.replace(f'"prompt": "{prompt_id()}"', '"prompt": "earlier"'), encoding="utf-8")
    with pytest.raises(SuperposeError, match="other settings \\(prompt 'earlier', now '"):
        run_score(folder, out, simulator=None, explanations=items, embedding=False,
                  scorers=["detection", "fuzzing"], judge=judging, simulation=False, progress=False)
    out.write_text(text, encoding="utf-8")
    with pytest.raises(SuperposeError, match="other scorers"):
        run_score(folder, out, simulator=None, explanations=items, embedding=False,
                  scorers=["detection"], judge=judging, simulation=False, progress=False)
    json.dumps(rows[0])  # rows stay plain JSON


def test_params_are_checked():
    with pytest.raises(SuperposeError, match="window"):
        ClassifierParams(window=2)
    with pytest.raises(SuperposeError, match="unknown order 'random': choose one of unit, shared"):
        ClassifierParams(order="random")
    with pytest.raises(SuperposeError, match="active_fraction"):
        ClassifierParams(active_fraction=0)


@pytest.mark.slow
def test_the_embedded_smollm2_judge_answers_every_slot():
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers.classifier import LocalJudge

    lm = load_local_model("smollm2-135m")
    judge = LocalJudge(lm.model, lm.tokenizer, lm.name)
    params = ClassifierParams(n_activating=3, n_non_activating=2, window=12)
    score = detection_score("the word fire", _unit(), judge, params)
    probs = score.details
    assert probs["cost"]["prompts"] == 1 and probs["cost"]["failed"] == 0
    assert score.value is not None and 0 <= score.value <= 1 and 0 <= probs["auc"] <= 1
    again = detection_score("the word fire", _unit(), judge, params)
    assert again.details["auc"] == probs["auc"]  # greedy: deterministic
    # the guessed-then-checked decoding, with the key/value cache of the previous prompt cut
    # back to the start they share, equals plain sequential greedy decoding, slot by slot
    import torch

    from superpose.explainer.scorers.classifier import DETECTION, FUZZING

    texts = [e.text() for e in detection_examples(_unit(), params)]
    rendered = lm.tokenizer.apply_chat_template(DETECTION.messages("fire", texts), tokenize=False,
                                                add_generation_prompt=True)
    assert lm.tokenizer.encode(str(rendered), add_special_tokens=False) + [judge._ids["["]] == \
        judge.prompt_ids(DETECTION.messages("fire", texts))[1]  # the split changes no token here
    # three prompts in turn: a new task cuts the cache back to the system message, a shorter
    # example list to the explanation (kept to three: each reference slot is a full forward pass)
    for task, explanation, shown in ((DETECTION, "the word fire", texts), (FUZZING, "numbers", texts[:2]),
                                     (DETECTION, "numbers", texts[1:])):
        messages = task.messages(explanation, shown)
        verdict = judge._answer(messages, len(shown))
        assert 0 < verdict.computed_tokens < verdict.prompt_tokens + 2 * len(shown)
        ids = judge.prompt_ids(messages)[1]
        slow = []
        for _ in shown:
            with torch.inference_mode():
                row = lm.model(input_ids=torch.tensor([ids])).logits[0, -1].double()
            p = float(torch.sigmoid(row[judge._ids["1"]] - row[judge._ids["0"]]))
            slow.append(p)
            ids += [judge._ids["1"] if p >= 0.5 else judge._ids["0"], judge._ids[","]]
        assert verdict.probabilities == pytest.approx(slow, abs=1e-4)


@pytest.mark.slow
def test_the_smollm2_judge_answers_a_units_prompts_in_one_batch_as_one_by_one():
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers.classifier import DETECTION, FUZZING, LocalJudge

    lm = load_local_model("smollm2-135m")
    params = ClassifierParams(n_activating=6, n_non_activating=4, window=12)
    texts = [e.text() for e in detection_examples(_unit(), params)]
    batches = [texts[:5], texts[5:8], texts[8:]]  # rows of unequal length: padding
    batched, single = LocalJudge(lm.model, lm.tokenizer, lm.name), LocalJudge(lm.model, lm.tokenizer, lm.name)
    for task in (DETECTION, FUZZING, DETECTION):
        many = batched.verdicts(task, "the word fire", batches, per_prompt=5)
        ones = [single._answer(task.messages("the word fire", b), len(b)) for b in batches]
        for a, b in zip(many, ones, strict=True):
            assert a.probabilities == pytest.approx(b.probabilities, abs=1e-4)
        # one pass for the shared start, one for the batch, more only for a guess that failed
        assert 2 <= sum(v.passes for v in many) <= 2 + sum(v.passes for v in ones)
        assert sum(v.computed_tokens for v in many) >= sum(len(b) for b in batches)
    # a guess that fails: the first row's answer is forced wrong, so that row is decoded again
    batched._contexts.clear()
    fixed, _ = batched.prompt_ids(DETECTION.messages("numbers", batches[0]))
    first = batched._answer(DETECTION.messages("numbers", batches[0]), 5)
    batched._contexts[fixed].answer = [batched._ids["0"] if (p or 0) >= 0.5 else batched._ids["1"]
                                       for p in first.probabilities]
    again = batched.verdicts(DETECTION, "numbers", batches[:2], per_prompt=5)
    assert again[0].probabilities == pytest.approx(first.probabilities, abs=1e-4) and again[0].passes > 2
    # ... from the batch's keys and values of that row, not from its start: besides the shared
    # start (held already) and the batch's row, only the corrected answer's tokens are computed
    rows = [batched.prompt_ids(DETECTION.messages("numbers", b))[1] for b in batches[:2]]
    shared = next(k for k in range(min(map(len, rows))) if rows[0][k] != rows[1][k]) - 1
    row = len(rows[0]) + 2 * 4 - shared  # the prompt and a 5-digit guess less its last digit
    assert again[0].computed_tokens - 1 - row <= 2 * 5 * (again[0].passes - 2)


def test_score_cli_refuses_unknown_scorers_and_bad_judge_settings(tmp_path, capsys):
    from superpose.cli import main

    folder = str(make_records(tmp_path / "rec"))
    base = ["score", "--records", folder, "--explanation", "alpha", "--layer", "0", "--neurons", "0",
            "--no-progress"]
    assert main([*base, "--scorers", "detection,bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown scorer 'bogus'" in err and "detection" in err and len(err.splitlines()) == 1
    assert main([*base, "--scorers", "detection", "--judge-examples", "0"]) == 2
    assert "--judge-examples must be at least 1" in capsys.readouterr().err
    assert main([*base, "--scorers", "detection", "--judge-per-prompt", "21"]) == 2
    assert "--judge-per-prompt" in capsys.readouterr().err
    assert main([*base, "--scorers", "detection", "--judge-window", "2"]) == 2
    err = capsys.readouterr().err
    assert "--judge-window" in err and "at least 4 tokens" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "rec" / "scores.jsonl").exists()
