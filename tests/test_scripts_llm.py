"""The comparison's helper scripts on hand-made inputs: top-tokens, the cost reader, merging parts."""

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from superpose.activations.formats import ActivationRecord

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    """A benchmark as a module, its folder on the path as when it runs (it imports the sibling harness)."""
    folder = str(ROOT / "benchmarks")
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module


def test_top_tokens_takes_the_strongest_distinct_tokens_above_zero():
    from superpose.explainer.clients.top_tokens import top_tokens  # the baseline script's text, in the library

    records = [ActivationRecord([" red", " car", " red", "\n"], np.array([0.5, 0.1, 0.9, 2.0])),
               ActivationRecord(["blue", " the", " Red"], np.array([0.7, -1.0, 0.0]))]
    assert top_tokens(records, 5) == ["red", "blue", "car"]  # "\n" is whitespace; -1 and 0 never fire
    assert top_tokens(records, 1) == ["red"]
    assert top_tokens([ActivationRecord([" a"], np.array([0.0]))], 3) == []


def test_top_tokens_variants_rank_by_mass_mean_records_fold_case_share_and_context():
    from superpose.config import TopTokensParams
    from superpose.explainer.clients.top_tokens import TopTokensExplainer, top_tokens

    # "the" fires often and moderately (mass 1.8), "Paris" once and strongly (peak 1.0)
    records = [ActivationRecord([" in", " Paris", " the", " the"], np.array([0.0, 1.0, 0.6, 0.6])),
               ActivationRecord([" of", " The", " x", " the"], np.array([0.1, 0.6, -3.0, 0.0]))]
    assert top_tokens(records) == ["Paris", "the", "The", "of"]
    assert top_tokens(records, params=TopTokensParams(rank="mass")) == ["the", "Paris", "The", "of"]
    assert top_tokens(records, params=TopTokensParams(rank="mean")) == ["Paris", "The", "the", "of"]
    assert top_tokens(records, params=TopTokensParams(rank="records")) == ["Paris", "The", "the", "of"]
    # case folded: "the" and "The" are one token of mass 1.2 + 0.6, shown in its strongest spelling
    assert top_tokens(records, params=TopTokensParams(rank="mass", fold_case=True)) == ["the", "Paris", "of"]
    # the + Paris hold 2.2 of the 2.9 of mass (76%): a share of 0.6; "x" (negative) adds nothing
    assert top_tokens(records, params=TopTokensParams(rank="mass", share=0.6)) == ["the", "Paris"]
    assert top_tokens(records, params=TopTokensParams(rank="mass", share=0.6, count=1)) == ["the"]
    assert top_tokens(records, 2, params=TopTokensParams(context=True)) == ["Paris after in", "the after Paris"]
    text = TopTokensExplainer(TopTokensParams(count=2, prefix="")).explain_records(records)
    assert text == "Paris, the"
    assert TopTokensExplainer().name == "top-tokens:5"  # the committed explainer keeps its name
    assert TopTokensExplainer(TopTokensParams(rank="mass")).name == "top-tokens:5,rank='mass'"
    from superpose.config import TOP_TOKENS_MASS, ExplainBackend
    from superpose.explainer.clients import make_client

    mass = make_client(ExplainBackend(kind="top-tokens-mass"))  # the chosen variant as a back-end of its own
    assert mass.explain_records(records) == "the, Paris" and mass.params == TOP_TOKENS_MASS


def test_top_tokens_baseline_writes_explain_rows(tmp_path):
    from tests.llm_helpers import make_records

    records = make_records(tmp_path / "rec")
    out = tmp_path / "t.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "top_tokens_baseline.py"), "--records",
                           str(records), "--layers", "0", "--neurons", "0-2", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["neuron"] for r in rows] == [0, 1, 2]
    assert rows[0]["explanation"] == "the tokens alpha" and rows[1]["explanation"] == "the tokens beta"
    assert rows[2]["status"] == "dead"  # the helper's third neuron never fires


def test_neuron_cost_sums_each_stage_per_neuron(tmp_path):
    cost = _script("bench_neuron_cost")
    rows = {"explanations.jsonl": [{"layer": 1, "neuron": 0, "status": "ok", "seconds": 4.0},
                                   {"layer": 1, "neuron": 1, "status": "error", "seconds": 9.0}],
            "scores.jsonl": [{"layer": 1, "neuron": 0, "status": "ok", "seconds": 0.5},
                             {"layer": 1, "neuron": 0, "status": "ok", "seconds": 0.25},
                             {"layer": 1, "neuron": 1, "status": "ok", "seconds": 1.0}],
            "steering.jsonl": [{"layer": 1, "neuron": 0, "status": "ok", "seconds": 2.0},
                               {"layer": 1, "neuron": 1, "status": "ok", "seconds": 2.0}]}
    for name, items in rows.items():
        text = "".join(json.dumps(r) + "\n" for r in items)
        if name == "scores.jsonl":
            (tmp_path / (name + ".gz")).write_bytes(gzip.compress(text.encode()))
        else:
            (tmp_path / name).write_text(text)
    got = cost.per_neuron(tmp_path)
    assert got == {(1, 0): {"explain": 4.0, "input": 0.75, "output": 2.0}}  # neuron 1's explain failed
    assert cost.describe([1.0, 2.0, 3.0]) == {"median": 2.0, "p90": 2.8, "max": 3.0}


@pytest.mark.parametrize("name", ["bench_puzzles", "bench_explainer", "compare_real", "bench_neuron_cost",
                                  "top_tokens_baseline", "bench_explainer_puzzles", "explainer_choice",
                                  "bench_judge_cost", "judge_window_check"])
def test_scripts_explain_themselves(name):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--help"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "usage:" in done.stdout


def _part(simulator: str, puzzles: list[str], seq_len: int = 16) -> dict:
    return {"parameters": {"simulators": [simulator], "puzzles": puzzles, "seq_len": seq_len, "out": "x"},
            "per_puzzle": [{"simulator": simulator, "puzzle": p, "clean_win": p == "a"} for p in puzzles],
            "runs": [{"model": simulator, "puzzles": len(puzzles), "wall_seconds": 10.0, "cpu_seconds": 4.0}]}


def test_puzzle_merge_adds_up_one_simulator_split_over_processes():
    bench = _script("bench_puzzles")
    merged = bench.merge([_part("m", ["a", "b"]), _part("m", ["c"]), _part("e", ["a", "b", "c"])])
    assert [r["puzzle"] for r in merged["per_puzzle"]] == ["a", "b", "c", "a", "b", "c"]
    assert merged["runs"][0] == {"model": "m", "puzzles": 3, "wall_seconds": 20.0, "cpu_seconds": 8.0,
                                 "processes": 2}
    assert merged["parameters"]["simulators"] == ["m", "e"] and merged["parameters"]["puzzles"] == []
    assert bench.summary(merged) == [("m", 1, 3), ("e", 1, 3)]
    with pytest.raises(SystemExit, match="same puzzle"):
        bench.merge([_part("m", ["a"]), _part("m", ["a"])])
    with pytest.raises(SystemExit, match="seq_len"):
        bench.merge([_part("m", ["a"]), _part("m", ["b"], seq_len=24)])


def test_puzzle_false_explanations_lead_with_near_misses_and_wins_split_by_context():
    from superpose.explainer.puzzles import PUZZLES

    bench = _script("bench_puzzles")
    for k, p in enumerate(PUZZLES):
        false = bench.false_explanations(k, 3, seed=0)
        assert false[:len(p.near_misses)] == list(p.near_misses)
        assert len(set(false)) == len(p.near_misses) + 3 and p.explanation not in false
    rows = [{"simulator": "m", "kind": k, "context_dependent": c, "clean_win": w}
            for k, c, w in [("x", True, True), ("x", True, False), ("y", False, True)]]
    results = {"per_puzzle": rows}
    assert bench.summary(results, lambda r: r["context_dependent"]) == [("m", 1, 2)]
    assert bench.summary(results, lambda r: not r["context_dependent"]) == [("m", 1, 1)]
    assert bench.kinds_of(results) == ["x", "y"]


def test_compare_real_merges_parts_and_rebuilds_the_summary(tmp_path):
    """Parts of disjoint layers join into one table whose summary counts every neuron."""
    from superpose.compare import COLUMNS
    from superpose.compare.run import table_csv

    merge = _script("compare_real").merge
    rng = np.random.default_rng(0)
    parts = []
    for k, layers in enumerate(((0, 1), (2,))):
        part = tmp_path / f"part{k}"
        part.mkdir()
        rows = []
        for layer in layers:
            for neuron in range(3):
                row = {c: "" for c in COLUMNS}
                row.update({c: float(rng.uniform(0, 1)) for c in COLUMNS if c.endswith(("_input", "_output",
                                                                                        "_shuffled"))})
                row.update(model="m", mode="hi-c", corpus="c", layer=layer, neuron=neuron, missing="")
                rows.append(row)
        (part / "compare.csv").write_text(table_csv(COLUMNS, rows))
        (part / "explanations.jsonl").write_text(f'{{"part": {k}}}\n')
        (part / "steering.jsonl").write_text(f'{{"steer": {k}}}\n')
        with gzip.open(part / "scores.jsonl.gz", "wt") as fh:
            fh.write(f'{{"score": {k}}}\n')
        (part / "compare.json").write_text(json.dumps({"neurons": len(rows), "created": "now", "model": "m"}))
        parts.append(part)
    out = tmp_path / "all"
    assert merge(parts, out) == 0
    assert (out / "compare.csv").read_text().count("\n") == 1 + 9
    assert "over all 9 neurons" in (out / "summary.md").read_text()
    assert "ensemble minus LLM" in (out / "summary.md").read_text()
    meta = json.loads((out / "compare.json").read_text())
    assert meta["neurons"] == 9 and [p["neurons"] for p in meta["parts"]] == [6, 3]
    assert gzip.decompress((out / "scores.jsonl.gz").read_bytes()).decode().splitlines() == [
        '{"score": 0}', '{"score": 1}']
    assert (out / "explanations.jsonl").read_text().splitlines() == ['{"part": 0}', '{"part": 1}']
    assert gzip.decompress((out / "compare.csv.gz").read_bytes()).decode() == (out / "compare.csv").read_text()
    (parts[1] / "compare.csv").unlink()
    with pytest.raises(SystemExit, match="run that part first"):
        merge(parts, tmp_path / "again")
