"""The corpus CLI: build, info, coherence, and one-line errors that leave nothing behind."""

from __future__ import annotations

import json

import pytest

from superpose.cli import main

TEXT = "\n".join(["the cat sat on the mat with another cat", "dogs and cats are pets",
                  "the dog sat on the cat mat", "pets sat on mats"] * 5) + "\n"


@pytest.fixture()
def text_file(tmp_path):
    path = tmp_path / "pets.txt"
    path.write_text(TEXT)
    return path


def _build(text_file, out, *extra):
    return main(["corpus", "build", "--source", str(text_file), "--out", str(out),
                 "--min-count", "2", "--no-progress", *extra])


def test_build_info_and_coherence(tmp_path, text_file, capsys):
    out = tmp_path / "corpus"
    assert _build(text_file, out) == 0
    assert "vocabulary" in capsys.readouterr().out
    assert main(["corpus", "info", str(out), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["format"] == "superpose-corpus" and meta["window"] == 10
    assert meta["windowing"] == "filtered" and meta["sources"][0]["documents"] == 20
    assert meta["versions"]["numpy"] and meta["tokens"] == len(TEXT.split())
    assert main(["coherence", "--corpus", str(out), "--json", "cat", "sat", "mat", "zebra"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unknown"] == ["zebra"] and len(result["pairs"]) == 3
    assert -1 <= result["npmi"] <= 1
    assert main(["coherence", "--corpus", str(out), "cat", "sat", "dogs"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("NPMI ") and "never share a window" in text


def test_rebuild_same_is_reused_and_different_is_refused(tmp_path, text_file, capsys):
    out = tmp_path / "corpus"
    assert _build(text_file, out) == 0
    stamp = (out / "meta.json").stat().st_mtime_ns
    assert _build(text_file, out) == 0
    assert (out / "meta.json").stat().st_mtime_ns == stamp
    capsys.readouterr()
    assert _build(text_file, out, "--window", "5") == 2
    err = capsys.readouterr().err
    assert "already holds a different corpus" in err and err.count("\n") == 1
    assert _build(text_file, out, "--window", "5", "--overwrite") == 0
    assert json.loads((out / "meta.json").read_text())["window"] == 5


@pytest.mark.parametrize("setup, expected", [
    (lambda p: p.write_text(""), "is empty"),
    (lambda p: p.write_bytes(b"\xff\xfe\xfa broken"), "not UTF-8"),
    (lambda p: p.write_text("123 456 !!!\n"), "has no words"),
    (lambda p: p.write_text("one two three\n"), "vocabulary is empty"),
])
def test_bad_input_is_one_line_and_leaves_no_folder(tmp_path, capsys, setup, expected):
    source = tmp_path / "bad.txt"
    setup(source)
    out = tmp_path / "corpus"
    assert _build(source, out, "--min-count", "5") == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.txt"]


def test_non_corpus_folders_are_refused(tmp_path, text_file, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.md").write_text("mine")
    assert _build(text_file, busy) == 2
    assert "not a corpus" in capsys.readouterr().err
    assert main(["corpus", "info", str(busy)]) == 2
    assert "no meta.json" in capsys.readouterr().err
    assert main(["coherence", "--corpus", str(tmp_path / "missing"), "a", "b"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_other_format_version_is_refused(tmp_path, text_file, capsys):
    out = tmp_path / "corpus"
    assert _build(text_file, out) == 0
    meta = json.loads((out / "meta.json").read_text())
    meta["format_version"] = 99
    (out / "meta.json").write_text(json.dumps(meta))
    assert main(["corpus", "info", str(out)]) == 2
    assert "format version 99" in capsys.readouterr().err


def test_outputs_get_ordinary_permissions(tmp_path, text_file):
    import os
    import stat

    out = tmp_path / "corpus"
    assert _build(text_file, out) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((out / "meta.json").stat().st_mode) == 0o666 & ~mask


def test_default_vocabulary_drops_stopwords_and_short_words(tmp_path, text_file, capsys):
    from superpose.corpus.store import load_corpus

    assert _build(text_file, tmp_path / "new") == 0
    vocab = set(load_corpus(tmp_path / "new").vocab)
    assert {"cat", "sat", "mat", "dogs", "pets"} <= vocab and not vocab & {"the", "on", "and", "with", "are"}
    assert "stopwords removed" in capsys.readouterr().out
    assert _build(text_file, tmp_path / "old", "--stopwords", "keep", "--min-length", "1") == 0
    assert {"the", "on", "and"} <= set(load_corpus(tmp_path / "old").vocab)


def test_demo_and_corpus_build_make_the_same_default_corpus(tmp_path, monkeypatch):
    import superpose.corpus.build as build
    from superpose.core.errors import SuperposeError

    seen = []

    def capture(sources, out, params=None, **kwargs):
        seen.append((list(sources), str(out), params))
        raise SuperposeError("stop here")

    monkeypatch.setattr(build, "build_corpus", capture)
    assert main(["corpus", "build", "--out", "corpus/build/default", "--no-progress"]) == 2
    assert main(["demo"]) == 2
    (cli_sources, cli_out, cli_params), (demo_sources, demo_out, demo_params) = seen
    assert cli_params == demo_params == build.CorpusParams()
    assert cli_sources == demo_sources == ["default"] and cli_out == demo_out == "corpus/build/default"


def test_a_corpus_from_before_the_new_defaults_is_still_recognised(tmp_path, text_file, capsys):
    out = tmp_path / "corpus"
    assert _build(text_file, out, "--stopwords", "keep", "--min-length", "1") == 0
    meta = json.loads((out / "meta.json").read_text())
    for record in (meta, meta["request"]["params"]):  # how older versions wrote it
        record["stopwords"] = False
        record.pop("convention")
    (out / "meta.json").write_text(json.dumps(meta))
    stamp = (out / "meta.json").stat().st_mtime_ns
    assert _build(text_file, out, "--stopwords", "keep", "--min-length", "1") == 0
    assert (out / "meta.json").stat().st_mtime_ns == stamp  # reused, not refused
    assert "stopwords kept" in capsys.readouterr().out
