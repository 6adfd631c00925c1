"""Parallel corpus reading: the same corpus whatever the workers, validated --workers, no orphans."""

from __future__ import annotations

import bz2
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.workers import available_cores, ordered_map, resolve_workers

ROOT = Path(__file__).resolve().parents[1]
HEAD = '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">'
PAGE = """<page><title>Page {i}</title><ns>0</ns><id>{i}</id><revision><id>{i}</id>
<text xml:space="preserve">The '''river {i}''' flows into the [[sea|northern sea]] near {{{{Infobox town|name=x}}}}
the harbour town.&lt;ref&gt;A note&lt;/ref&gt;
{{| class="wikitable"
|-
! Year !! Boats
|-
| river || harbour boats
|}}
[[Category:Rivers]]</text></revision></page>
"""


def _dump(path: Path, pages: int) -> Path:
    body = "".join(PAGE.format(i=i) for i in range(pages))
    path.write_bytes(bz2.compress(f"{HEAD}{body}</mediawiki>".encode()))
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".npy", ".txt")}


def test_workers_do_not_change_the_corpus(tmp_path):
    dump = _dump(tmp_path / "dump.xml.bz2", 60)
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"harbour boats sail river {i % 7} town sea\n" for i in range(300)))
    params = CorpusParams(window=5, min_count=2)
    one = build_corpus([str(dump), str(lines)], tmp_path / "one", params, workers=1)
    # batches of a few pages each, so that several batches are in flight at once
    from superpose.corpus import stream
    original = stream.BATCH_CHARS
    stream.BATCH_CHARS = 2000
    try:
        two = build_corpus([str(dump), str(lines)], tmp_path / "two", params, workers=min(2, available_cores()))
    finally:
        stream.BATCH_CHARS = original
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert one.meta["tokens"] == two.meta["tokens"] and "harbour" in one.vocab and "infobox" not in one.vocab


def test_ordered_map_keeps_order_with_processes():
    assert list(ordered_map(abs, range(-50, 0), min(2, available_cores()))) == list(range(50, 0, -1))


def _uneven(item: int) -> int:
    time.sleep(0.05 if item % 5 == 0 else 0.001)  # one item in five slow: the others overtake it
    if item == 37:
        raise ValueError("item 37 is bad")
    return item * item


def test_ordered_map_keeps_order_when_items_finish_out_of_order():
    assert list(ordered_map(_uneven, range(30), 3, ahead=2)) == [i * i for i in range(30)]
    with pytest.raises(RuntimeError, match="item 37 is bad"):
        list(ordered_map(_uneven, range(60), 2))


def test_plain_text_corpus_is_the_same_for_any_number_of_workers(tmp_path, monkeypatch):
    """1, 2 and 3 workers (3 even on fewer cores: they share them), batches of a few lines and
    count batches of a few hundred tokens: every file the same bytes, meta.json the same but for
    its times and worker count."""
    import json
    import random
    from functools import partial

    from superpose.corpus import build, stream

    rng = random.Random(7)
    words = ["harbour", "boats", "sail", "river", "town", "sea", "north", "x", "pneumonoultramicroscopic",
             "\u0130stanbul", "\u212aelvin", "caf\u00e9", "2024", "the", "and"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(600)]
    text = tmp_path / "plain.txt"
    text.write_bytes("\r\n".join(lines).encode() + b"\n\n")
    monkeypatch.setattr(build, "resolve_workers", int)
    monkeypatch.setattr(build, "write_stream", partial(stream.write_stream, batch_chars=1500))
    params = CorpusParams(window=5, min_count=2)
    metas = []
    for workers in (1, 2, 3):
        counts = build_corpus([str(text)], tmp_path / str(workers), params, workers=workers, batch_tokens=300)
        assert counts.meta["workers"] == workers
        meta = json.loads((tmp_path / str(workers) / "meta.json").read_text())
        metas.append({k: v for k, v in meta.items() if k not in ("created", "seconds", "cpu_seconds", "workers")})
    assert _files(tmp_path / "1") == _files(tmp_path / "2") == _files(tmp_path / "3")
    assert metas[0] == metas[1] == metas[2] and metas[0]["tokens"] > 5000
    assert "pneumonoultramicroscopic" in counts.vocab and "stanbul" in counts.vocab and "kelvin" in counts.vocab


@pytest.mark.parametrize("value", [0, -3, 100000, "many", "", True])
def test_bad_worker_counts_are_refused(value):
    with pytest.raises(SuperposeError, match="--workers must be"):
        resolve_workers(value)


def test_good_worker_counts():
    assert resolve_workers("auto") == available_cores()
    assert resolve_workers(1) == 1 and resolve_workers(str(available_cores())) == available_cores()


def test_bad_workers_flag_fails_before_anything_is_written(tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_text("words here\n")
    out = tmp_path / "corpus"
    assert main(["corpus", "build", "--source", str(source), "--out", str(out), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "--workers must be" in err and err.count("\n") == 1
    assert not out.exists()


def test_parquet_source(tmp_path):
    table = pa.table({"id": [1, 2, 3, 4], "text": ["harbour boats sail", None, "", "river boats harbour"]})
    path = tmp_path / "wiki.parquet"
    pq.write_table(table, path)
    counts = build_corpus([str(path)], tmp_path / "c", CorpusParams(min_count=1))
    assert counts.meta["documents"] == 2 and counts.meta["tokens"] == 6
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(table.slice(0, 2), shards / "part-0.parquet")
    pq.write_table(table.slice(2), shards / "part-1.parquet")
    again = build_corpus([str(shards)], tmp_path / "d", CorpusParams(min_count=1))
    assert again.vocab == counts.vocab and again.meta["tokens"] == 6


@pytest.mark.parametrize("make, expected", [
    (lambda p: pq.write_table(pa.table({"body": ["x"]}), p), "has no 'text' column (columns: body)"),
    (lambda p: pq.write_table(pa.table({"text": [1, 2]}), p), "column 'text' holds int64, not strings"),
    (lambda p: p.write_bytes(b"PAR1 not really parquet"), "not a readable Parquet file"),
])
def test_bad_parquet_is_one_line_and_leaves_nothing(tmp_path, capsys, make, expected):
    path = tmp_path / "bad.parquet"
    make(path)
    out = tmp_path / "corpus"
    assert main(["corpus", "build", "--source", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["bad.parquet"]


@pytest.mark.parametrize("content, expected", [
    (bz2.compress(b"plain words, no markup"), "not a MediaWiki XML dump"),
    (b"not bz2 at all", "not a readable bz2 file"),
    (bz2.compress(b"<html><body>a web page</body></html>"), "not a MediaWiki XML dump"),
])
def test_a_dump_that_is_not_xml_fails_before_reading(tmp_path, capsys, content, expected):
    path = tmp_path / "dump.xml.bz2"
    path.write_bytes(content)
    out = tmp_path / "corpus"
    assert main(["corpus", "build", "--source", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["dump.xml.bz2"]


def test_a_dump_broken_midway_leaves_nothing(tmp_path, capsys):
    path = tmp_path / "dump.xml.bz2"
    good = "".join(PAGE.format(i=i) for i in range(3))
    path.write_bytes(bz2.compress(f"{HEAD}{good}<page><title>x</broken></mediawiki>".encode()))
    out = tmp_path / "corpus"
    assert main(["corpus", "build", "--source", str(path), "--out", str(out), "--no-progress",
                 "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "not a MediaWiki XML dump" in err and err.count("\n") == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["dump.xml.bz2"]


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # the thread ended between the listing and the read
            continue
        found.update(int(c) for c in children)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists() or available_cores() < 2,
                    reason="needs Linux /proc and two cores")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_workers_never_outlive_the_parent(tmp_path, sig):
    script = textwrap.dedent("""
        import sys, time
        from superpose.corpus.workers import ordered_map
        def slow(x):
            time.sleep(60)
            return x
        print("ready", flush=True)
        for _ in ordered_map(slow, range(4), 2):
            pass
    """)
    # as from a terminal: Ctrl-C at its default (a shell's background job would start it ignored)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)),
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert parent.stdout.readline().strip() == b"ready"
        workers: set[int] = set()
        for _ in range(200):  # the pool starts its two workers
            workers = _children(parent.pid)
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert len(workers) >= 2
        os.kill(parent.pid, sig)
        parent.wait(timeout=120)
        for _ in range(200):
            if not any(_alive(w) for w in workers):
                break
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers)
    finally:
        parent.kill()
        parent.wait()
