"""End to end on a tiny random model saved to a folder: activations, explain, score, errors."""

import json

import numpy as np
import pytest

from superpose.activations.formats import RecordStore, read_jsonl
from superpose.cli import main

TEXT = ("On Monday the shop opened at 9. On Tuesday it rained (a lot). The cat sat on the mat. "
        "France and Spain are countries. She walked, talked and laughed. ") * 3


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TEXT], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=16, intermediate_size=24,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         eos_token_id=fast.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny") / "tiny-llama"
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    corpus = tmp_path_factory.mktemp("corpus") / "text.txt"
    corpus.write_text("\n".join([TEXT] * 8))
    return folder, corpus


def test_activations_explain_score_and_resume(tiny_model, tmp_path, monkeypatch, capsys):
    folder, corpus = tiny_model
    out = tmp_path / "records"
    args = ["activations", "--model", str(folder), "--corpus-source", str(corpus),
            "--layers", "0-1", "--out", str(out), "--seq-len", "16", "--max-tokens", "2000",
            "--top-k", "8", "--random", "6", "--per-quantile", "2", "--no-progress"]
    assert main(args) == 0
    records = out / "tiny-llama"
    store = RecordStore(records)
    assert store.layers == [0, 1] and store.meta["n_neurons"] == 24
    assert store.meta["second_pass_last_run"] == "spilled"
    neuron = store.neuron(1, 3)
    assert len(neuron.top) == 8 and len(neuron.random) == 6
    assert all(len(r.tokens) == 16 for r in neuron.top)
    assert set(neuron.quantile) == {"q0-0.5", "q0.5-0.9", "q0.9-0.99", "q0.99-0.999"}
    assert "".join(neuron.top[0].tokens) in TEXT * 2
    assert main(args) == 0  # resumable: nothing left to do

    # explanations from a scripted OpenAI-compatible server on loopback
    from tests.test_llm_clients import FakeServer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server = FakeServer()
    try:
        expl = tmp_path / "expl.jsonl"
        base = ["explain", "--records", str(records), "--layer", "1", "--neurons", "0-3",
                "--backend", "openai", "--model", "m", "--base-url", server.url,
                "--retries", "0", "--out", str(expl), "--no-progress"]
        server.script = ["ok", "401", "ok", "ok"]
        assert main(base) == 2  # a neuron ended in error: non-zero exit, one-line summary
        printed = capsys.readouterr()
        err = printed.err.strip()
        assert "\n" not in err and "1 of " in err and "401" in err
        assert f"explain: {expl}" in printed.out  # the table of what the run did
        assert "requested       4" in printed.out and "failed 1)" in printed.out
        rows = read_jsonl(expl)
        assert [r["status"] for r in rows].count("ok") + \
            [r["status"] for r in rows].count("dead") == 3
        assert any(r["status"] == "error" for r in rows)
        assert all(r["explanation"].startswith("echo:") for r in rows if r["status"] == "ok")
        n_requests = len(server.requests)
        assert main(base) == 0  # only the failed neuron is retried (ok ones are cached anyway)
        assert len(server.requests) == n_requests + 1
        table = capsys.readouterr().out
        assert "done now        1" in table and "skipped         3" in table and "failed 0)" in table
        done = {r["neuron"] for r in read_jsonl(expl) if r["status"] in ("ok", "dead")}
        assert done == {0, 1, 2, 3}
    finally:
        server.httpd.shutdown()

    # scores with the tiny model itself as the local all-at-once simulator
    scores = tmp_path / "scores.jsonl"
    score = ["score", "--records", str(records), "--explanations", str(expl),
             "--explanation", "words after the", "--layer", "0", "--neurons", "2",
             "--model", str(folder), "--out", str(scores), "--no-progress", "--no-embedding"]
    assert main(score) == 0
    rows = read_jsonl(scores)
    assert len(rows) == 5
    table = capsys.readouterr().out
    assert f"score: {scores}" in table and "requested       5" in table and "skipped         0" in table
    ok_rows = [r["scores"]["correlation"] for r in rows if r["status"] == "ok"]
    defined = [c for c in ok_rows if isinstance(c, float)]
    mean = f"{sum(defined) / len(defined):+.3f}" if defined else "-"
    assert [mean, str(len(defined)), "of", str(len(ok_rows))] in [
        line.split()[1:] for line in table.splitlines() if line.split()[:1] == ["correlation"]]
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok
    for row in ok:
        corr = row["scores"]["correlation"]
        assert isinstance(corr, float) or "undefined" in corr
        assert "all-at-once" in row["scores"]["simulator_method"]
    assert main(score) == 0 and len(read_jsonl(scores)) == 5
    table = capsys.readouterr().out
    assert "done now        0" in table and "skipped         5" in table and "correlation" not in table

    # --score-records K: at most K top and K random records per set; never mixed in one file
    assert main([*score, "--score-records", "1"]) == 2
    assert "--score-records 5, not 1" in capsys.readouterr().err
    few = tmp_path / "few.jsonl"
    assert main([*score[:-4], "--out", str(few), "--no-progress", "--no-embedding",
                 "--score-records", "1"]) == 0
    rows = [r for r in read_jsonl(few) if r["status"] == "ok"]
    assert rows and all(r["score_records"] == 1 for r in rows)
    assert all(r["scores"]["n_holdout_tokens"] <= 2 * 16 for r in rows)


def test_bad_inputs_give_one_line_errors(tiny_model, tmp_path, capsys, monkeypatch):
    folder, corpus = tiny_model
    assert main(["explain", "--records", str(tmp_path), "--layer", "0", "--neurons", "0"]) == 2
    assert "no activation records" in capsys.readouterr().err
    out = tmp_path / "r"
    base = ["activations", "--model", str(folder), "--corpus-source", str(corpus),
            "--out", str(out), "--seq-len", "16", "--max-tokens", "600", "--per-quantile", "0",
            "--no-progress"]
    assert main(base + ["--layers", "5"]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(base + ["--layers", "0"]) == 0
    assert main(base + ["--layers", "1", "--seq-len", "8"]) == 2  # other settings, same folder
    assert "another run" in capsys.readouterr().err
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    records = str(out / "tiny-llama")
    assert main(["explain", "--records", records, "--layer", "0", "--neurons", "0",
                 "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                 "--no-progress"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"layer": 0, "neuron": 0, "status": "ok", "explanation": "x",
                                 "records_model": "gpt2"}) + "\n")
    assert main(["score", "--records", records, "--explanations", str(other),
                 "--model", str(folder), "--no-progress", "--no-embedding"]) == 2
    assert "records of 'tiny-llama'" in capsys.readouterr().err


def _small_records(tiny_model, tmp_path):
    """Records of layer 0 of the tiny model over 600 tokens (one pass)."""
    folder, corpus = tiny_model
    out = tmp_path / "r"
    assert main(["activations", "--model", str(folder), "--corpus-source", str(corpus),
                 "--out", str(out), "--layers", "0", "--seq-len", "16", "--max-tokens", "600",
                 "--per-quantile", "0", "--no-progress"]) == 0
    return out / "tiny-llama"


def _silence(records, neuron):
    """Make ``neuron`` of layer 0 never exceed zero in its records."""
    from superpose.activations.formats import load_layer, save_layer

    layer = load_layer(records, 0)
    layer.top_acts[:, :, neuron] = np.minimum(layer.top_acts[:, :, neuron], 0)
    layer.max[neuron] = 0.0
    save_layer(records, 0, layer)


def test_dead_neuron_gets_a_status(tiny_model, tmp_path):
    from superpose.explainer.jobs import run_score

    records = _small_records(tiny_model, tmp_path)
    _silence(records, 5)
    scores = tmp_path / "s.jsonl"
    run_score(records, scores, simulator=None, explanations=[(0, 5, "anything")],
              embedding=False, progress=False)
    assert read_jsonl(scores)[0]["status"] == "dead"


def test_no_progress_shows_no_bar(tiny_model, tmp_path, capfd):
    """--no-progress hides every bar, the sentence encoder's and the simulator's "Loading weights"
    too, and puts transformers' own switch back afterwards."""
    from transformers.utils import logging as hf_logging

    folder, corpus = tiny_model
    out = tmp_path / "r"
    assert main(["activations", "--model", str(folder), "--corpus-source", str(corpus),
                 "--out", str(out), "--layers", "0", "--seq-len", "16", "--max-tokens", "600",
                 "--per-quantile", "0", "--no-progress"]) == 0
    capfd.readouterr()
    scores = tmp_path / "s.jsonl"
    score = ["score", "--records", str(out / "tiny-llama"), "--explanation", "the cat",
             "--layer", "0", "--neurons", "0-2", "--model", str(folder), "--out", str(scores)]
    was_on = hf_logging.is_progress_bar_enabled()
    assert main([*score, "--no-progress"]) == 0
    printed = capfd.readouterr()
    assert hf_logging.is_progress_bar_enabled() == was_on
    for bar in ("Loading weights", "it/s", "%|", "\r"):
        assert bar not in printed.err and bar not in printed.out
    assert "embedding_auc" in printed.out and "requested       3" in printed.out
    if was_on:  # the same command with bars draws them (so the check above can fail)
        assert main([*score, "--out", str(tmp_path / "t.jsonl")]) == 0
        assert "Loading weights" in capfd.readouterr().err


def test_top_tokens_backend_explains_from_the_explain_records_only(tiny_model, tmp_path, capsys):
    """explain --backend top-tokens: no model, the five strongest distinct tokens of the split's
    explain set (never the held-out records); a neuron that never fires is dead; it answers no chat."""
    from superpose.config import TOP_TOKENS_MASS, Backend, TopTokensParams
    from superpose.explainer.clients import LLMError, make_client
    from superpose.explainer.clients.top_tokens import top_tokens

    records = _small_records(tiny_model, tmp_path)
    expl = tmp_path / "e.jsonl"
    base = ["explain", "--records", str(records), "--layer", "0", "--neurons", "0-3", "--no-progress"]
    default = tmp_path / "default.jsonl"  # explain's default back-end: top-tokens-mass
    assert main([*base, "--model", "qwen2.5-coder-0.5b", "--out", str(default)]) == 2  # a model without --backend local
    assert "add --backend local" in capsys.readouterr().err and not default.exists()
    assert main([*base, "--out", str(default)]) == 0
    store = RecordStore(records)
    for row in read_jsonl(default):
        mass = top_tokens(store.neuron(0, row["neuron"]).split().explain, params=TOP_TOKENS_MASS)
        assert row["explanation"] == ", ".join(mass) and row["explainer"]["backend"] == "top-tokens-mass"
    cmd = [*base, "--backend", "top-tokens", "--out", str(expl)]
    assert main(cmd) == 0
    rows = {r["neuron"]: r for r in read_jsonl(expl)}
    for n in range(4):
        split = store.neuron(0, n).split()
        words = top_tokens(split.explain)
        assert rows[n]["status"] == "ok" and rows[n]["explanation"] == "the tokens " + ", ".join(words)
        assert 1 <= len(words) <= 5 and rows[n]["explainer"]["backend"] == "top-tokens"
    _silence(records, 5)
    assert main(["explain", "--records", str(records), "--layer", "0", "--neurons", "5",
                 "--backend", "top-tokens", "--out", str(expl), "--no-progress"]) == 0
    assert {r["neuron"]: r for r in read_jsonl(expl)}[5]["status"] == "dead"
    with pytest.raises(LLMError, match="answers no chat"):
        make_client(Backend(kind="top-tokens")).complete([{"role": "user", "content": "hi"}])
    variant = tmp_path / "v.jsonl"  # a variant's options reach the explainer, and are refused for an LLM
    assert main([*base, "--backend", "top-tokens", "--out", str(variant), "--tokens", "2",
                 "--token-rank", "mass"]) == 0
    want = ", ".join(top_tokens(store.neuron(0, 0).split().explain, params=TopTokensParams(count=2, rank="mass")))
    row = {r["neuron"]: r for r in read_jsonl(variant)}[0]
    assert row["explanation"] == "the tokens " + want and row["explainer"]["model"] == "top-tokens:2,rank='mass'"
    assert main([*base, "--out", str(tmp_path / "w.jsonl"), "--backend", "local", "--token-rank", "mass"]) == 2
    assert "add --backend top-tokens" in capsys.readouterr().err and not (tmp_path / "w.jsonl").exists()
