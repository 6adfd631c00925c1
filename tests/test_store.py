"""The run store: the sharded layout, and one reader for every layout (per-unit files, tables, shards)."""

from __future__ import annotations

import gzip
import json
import lzma
import shutil

import pytest

from superpose.cli import main
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.mining import store as export_module
from superpose.mining.store import TOPIC_FIELDS, RunReader, open_run, read_table
from superpose.mining.summary import summarize
from superpose.pipeline import mine, resolve_layout
from tests.mining_helpers import PARAMS, make_corpus, make_model


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store")
    return make_model(folder), make_corpus(folder)


def _mine(inputs, out, **kwargs):
    model, corpus = inputs
    options = dict(layers="0-1", neurons="0-11", projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
                   execution=ExecutionConfig(workers=1), progress=False)
    options.update(kwargs)
    return mine(str(model), str(corpus), str(out), **options)


@pytest.fixture(scope="module")
def runs(inputs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    return {layout: _mine(inputs, folder / layout, layout=layout) for layout in ("paper", "shards")}


def _rows(table) -> list[dict]:
    return table.to_pylist()


def test_shards_hold_what_the_paper_files_hold(runs):
    paper, shards = runs["paper"], runs["shards"]
    assert not list(shards.glob("*_topics.csv")) and not (shards / "topics.csv.gz").exists()
    assert sorted(p.name for p in (shards / "shards").iterdir()) == [
        f"layer_{layer:02d}_{table}{suffix}" for layer in (0, 1) for table in ("pools", "topics")
        for suffix in (".csv.gz", ".parquet")]
    a, b = RunReader(paper), RunReader(shards)
    assert _rows(a.topics()) == _rows(b.topics()) and a.topics().num_rows > 5
    assert _rows(a.pools()) == _rows(b.pools()) and a.pools().num_rows == 48
    for layer, neuron, polarity in ((0, 3, "pos"), (1, 11, "neg")):
        assert a.unit(layer, neuron, polarity) == b.unit(layer, neuron, polarity)
    assert summarize(paper) == summarize(shards)
    with gzip.open(shards / "shards" / "layer_00_topics.csv.gz", "rt") as fh:
        assert fh.readline().startswith("model,mode,layer,neuron,polarity,rank,words,score")
    assert json.loads((shards / "run.json").read_text())["request"]["layout"] == "shards"
    assert "layout" not in json.loads((paper / "run.json").read_text())["request"]


def test_shards_resume_layer_by_layer(inputs, runs, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = export_module.write_shard

    def dying(folder, layer, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(folder, layer, *args)

    monkeypatch.setattr(export_module, "write_shard", dying)
    with pytest.raises(KeyboardInterrupt):
        _mine(inputs, tmp_path / "killed", layout="shards")
    monkeypatch.setattr(export_module, "write_shard", real)
    folder = tmp_path / "killed" / "tiny-llama" / "hi-c"
    # one layer was written before the kill: layer 0 when the projection ran first, layer 1 when
    # it ran beside the mining (last layer first); which depends on the threads the workers leave
    done = [layer for layer in (0, 1) if export_module.shard_done(folder, layer)]
    assert len(done) == 1
    kept = folder / "shards" / f"layer_{done[0]:02d}_topics.csv.gz"
    first = kept.stat().st_mtime_ns
    _mine(inputs, tmp_path / "killed", layout="auto")  # auto resumes in the layout of the run in the folder
    assert kept.stat().st_mtime_ns == first  # not redone
    for name in ("layer_00_topics.csv.gz", "layer_01_topics.csv.gz", "layer_01_pools.csv.gz"):
        assert (folder / "shards" / name).read_bytes() == (runs["shards"] / "shards" / name).read_bytes()


def test_shard_writer_writes_a_layer_beside_the_caller_and_close_waits(tmp_path, monkeypatch):
    """A complete layer's shard is written by a helper thread: ``add`` returns while it is being
    written (the caller goes on feeding the workers), the next layer waits for it, ``close`` waits
    for the last one, and a write's error reaches the caller."""
    import threading

    from superpose.mining.pool import PoolResult

    real, started, release, order = export_module.write_shard, threading.Event(), threading.Event(), []

    def slow(folder, layer, *args):
        started.set()
        assert release.wait(10)
        order.append(layer)
        return real(folder, layer, *args)

    monkeypatch.setattr(export_module, "write_shard", slow)
    writer = export_module.ShardWriter(tmp_path, ["a", "b", "c"], "m", "hi-c", {0: 2, 1: 1})
    result = PoolResult()
    writer.add(0, 0, "pos", ["a", "b", "c"], result)
    writer.add(0, 0, "neg", ["a", "b", "c"], result)  # layer 0 complete: returns while it is written
    assert started.wait(10) and not export_module.shard_done(tmp_path, 0)
    release.set()
    writer.add(1, 0, "pos", ["a", "b", "c"], result)  # waits for layer 0, then hands over layer 1
    writer.close()
    assert order == [0, 1] and all(export_module.shard_done(tmp_path, layer) for layer in (0, 1))

    def failing(folder, layer, *args):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_shard", failing)
    writer = export_module.ShardWriter(tmp_path / "other", ["a"], "m", "hi-c", {0: 1})
    writer.add(0, 0, "pos", ["a"], result)
    with pytest.raises(OSError, match="disk full"):
        writer.close()


def test_layout_auto_takes_shards_for_whole_models(tmp_path):
    assert resolve_layout("auto", tmp_path, 46_080) == "shards"
    assert resolve_layout("auto", tmp_path, 24) == "paper"
    assert resolve_layout("paper", tmp_path, 46_080) == "paper"
    run = {"format": "superpose-mine", "format_version": 1, "request": {"model": "m"}}
    (tmp_path / "run.json").write_text(json.dumps(run))
    assert resolve_layout("auto", tmp_path, 46_080) == "paper"  # the run already there is in the paper's layout


def test_reader_merges_tables_and_per_unit_files(runs, tmp_path):
    paper = runs["paper"]
    mixed = tmp_path / "mixed"
    shutil.copytree(paper, mixed)
    full = RunReader(paper)
    # bulk tables for every unit, recompressed as xz; per-unit files for one unit only
    for name in ("topics", "pools"):
        data = gzip.decompress((mixed / f"{name}.csv.gz").read_bytes())
        (mixed / f"{name}.csv.gz").unlink()
        (mixed / f"{name}.csv.xz").write_bytes(lzma.compress(data))
    (mixed / "topics.parquet").unlink()
    for path in mixed.glob("*_*_*_*"):
        if not path.name.startswith("0_3_"):
            path.unlink()
    reader = open_run(mixed)
    assert _rows(reader.topics()) == _rows(full.topics())
    assert reader.unit(0, 3, "pos") == full.unit(0, 3, "pos")  # from its files: pool and sets kept
    counts_only = reader.unit(1, 4, "pos")
    assert counts_only["pool"] is None and counts_only["topics"] == full.unit(1, 4, "pos")["topics"]
    assert reader.unit(7, 0, "pos") is None and not reader.has(7, 0, "pos")
    # an unfinished run: per-unit files without tables are read too
    unfinished = tmp_path / "unfinished"
    shutil.copytree(paper, unfinished)
    for path in unfinished.glob("*.csv.gz"):
        path.unlink()
    (unfinished / "topics.parquet").unlink()
    assert _rows(RunReader(unfinished).pools()) == _rows(full.pools())


def test_bad_run_folders_are_one_line_errors(runs, tmp_path):
    with pytest.raises(SuperposeError, match="holds no mining results"):
        RunReader(tmp_path)
    with pytest.raises(SuperposeError, match="does not exist"):
        RunReader(tmp_path / "nowhere")
    alien = tmp_path / "alien"
    alien.mkdir()
    with gzip.open(alien / "topics.csv.gz", "wt") as fh:
        fh.write("id,text\n1,hello\n")
    with pytest.raises(SuperposeError, match="topics table but no pools table"):
        RunReader(alien)
    shutil.copy(runs["paper"] / "pools.csv.gz", alien / "pools.csv.gz")
    with pytest.raises(SuperposeError, match="not a superpose table: its header lacks layer"):
        RunReader(alien).topics()
    data = lzma.compress(gzip.decompress((runs["paper"] / "topics.csv.gz").read_bytes()) * 50)
    (tmp_path / "cut.csv.xz").write_bytes(data[: len(data) // 2])
    with pytest.raises(SuperposeError, match="cut.csv.xz is truncated or corrupt"):
        read_table(tmp_path / "cut.csv.xz", TOPIC_FIELDS)


def test_cli_summary_and_baseline_read_shards(inputs, runs, tmp_path, capsys):
    model, corpus = inputs
    out = tmp_path / "o"
    args = ["--corpus", str(corpus), "--out", str(out), "--model", str(model), "--layers", "0", "--neurons", "0-5",
            "--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--workers", "1", "--no-progress"]
    assert main(["mine", *args, "--layout", "shards"]) == 0
    run = out / "tiny-llama" / "hi-c"
    assert "shards" in capsys.readouterr().out
    assert main(["baseline", "--run", str(run), "--workers", "1", "--no-progress"]) == 0
    assert export_module.shard_done(run / "random", 0)
    assert main(["summary", "--run", str(run)]) == 0
    text = capsys.readouterr().out
    assert "| mined | all | both |" in text and "| random | all | both |" in text
    assert main(["mine", *args, "--layout", "paper"]) == 2
    assert "different parameters (layout)" in capsys.readouterr().err


def test_truncated_xz_table_is_one_line_through_every_command(runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs["paper"], run, ignore=shutil.ignore_patterns("*_*_*_*", "topics.parquet", "topics.csv.gz"))
    data = lzma.compress(gzip.decompress((runs["paper"] / "topics.csv.gz").read_bytes()) * 20)
    (run / "topics.csv.xz").write_bytes(data[: len(data) // 2])
    for command in (["summary", "--run", str(run)], ["report", "--results", str(run), "--out", str(tmp_path / "rep")],
                    ["search", "--run", str(run), "apple"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err.strip()
        assert "topics.csv.xz is truncated or corrupt" in err and len(err.splitlines()) == 1
    assert not (run / "summary.csv").exists() and not (tmp_path / "rep").exists() and not (run / "search").exists()


def test_csv_lines_are_the_csv_modules_text():
    import csv
    import io

    from superpose.mining.store import csv_lines

    rows = [["model", "mode", "layer"], ["smollm2-135m", "hi-c", 3, 0, "pos", "a b | c d", "0.25"],
            ["a", ""], ["", "b"], ["", ""], [""], ["x"], ["a,b", "c"], ['say "hi"', 1], ["line\nbreak", 2],
            ["carriage\rreturn", 3], ["nul\0", 4], [True, 1], [1.5, 2], [None, "z"], ["é ü", -7], [" lead", "trail "],
            ["a", "b,"], [",a", "b"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    assert csv_lines(rows) == buffer.getvalue()
    assert csv_lines([]) == ""
