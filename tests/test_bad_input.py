"""Bad input through the CLI: a one-line error, a non-zero exit, and nothing left behind.

Each case runs the real command line (``superpose.cli.main``) the way a user would type it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

from superpose.cli import main
from tests.mining_helpers import make_corpus, make_model


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    return make_model(folder), make_corpus(folder)


def _mine_args(inputs, out: Path, *extra: str) -> list[str]:
    model, corpus = inputs
    return ["mine", "--corpus", str(corpus), "--out", str(out), "--model", str(model), "--layers", "0",
            "--neurons", "0-1", "--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--no-progress",
            *extra]


def _fails(capsys, argv: list[str], message: str, code: int = 2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("superpose: error: "), err
    assert message in err, err
    return err


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize(("extra", "message"), [
    (("--kappa-l", "30"), "--kappa-l (30) is above --kappa-u (6)"),
    (("--k", "7"), "--k (7) is above --kappa-u (6)"),
    (("--theta-l", "nan"), "--theta-l must be a number in [-1, 1]"),
    (("--theta-l", "0.5", "--theta-u", "0.2"), "--theta-l (0.5) is above --theta-u (0.2)"),
    (("--time-limit", "-1"), "--time-limit must be a positive number"),
    (("--workers", "0"), "--workers must be 1-"),
    (("--workers", "-3"), "--workers must be 1-"),
    (("--workers", "100000"), "--workers must be 1-"),
    (("--workers", "lots"), "--workers must be a whole number or 'auto'"),
    (("--threads", "0"), "--threads must be at least 1"),
    (("--layers", "5-2"), "layer"),
    (("--layers", "0-999"), "layer"),
    (("--layers", "x"), "layer"),
    (("--neurons", "0-999999"), "neuron"),
    (("--tau", "0"), "--tau must be at least 1"),
    (("--tau", "100000000"), "tau 100000000 is out of range"),
])
def test_mine_refuses_before_writing_anything(inputs, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    _fails(capsys, _mine_args(inputs, out, *extra), message)
    assert _files(out) == []


def test_a_failed_mine_does_not_block_the_corrected_one(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    _fails(capsys, _mine_args(inputs, out, "--tau", "100000000"), "out of range")
    _fails(capsys, _mine_args(inputs, out, "--kappa-l", "30"), "above --kappa-u")
    assert main(_mine_args(inputs, out)) == 0  # no --overwrite needed
    capsys.readouterr()
    assert main(_mine_args(inputs, out)) == 0
    assert "skipped 4 of 4 unit-polarities already mined" in capsys.readouterr().out


def test_unknown_model_fails_at_once_offline(inputs, tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    argv = _mine_args(inputs, tmp_path / "out")
    argv[argv.index("--model") + 1] = "someone/no-such-model"
    _fails(capsys, argv, "not in the local hub cache")
    assert _files(tmp_path / "out") == []


def test_unreachable_hub_is_named(monkeypatch):
    from superpose import models

    monkeypatch.setattr(models, "_hub_endpoint", lambda: ("127.0.0.1", 9))  # discard port: refused
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(models.SuperposeError, match="127.0.0.1:9 does not answer"):
        models.load_model("someone/no-such-model")


def test_a_model_in_the_local_hub_cache_loads_without_the_hub(inputs, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from superpose.models import load_model

    model, _ = inputs
    snapshot = tmp_path / "hub" / "models--someone--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    for file in Path(model).iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (tmp_path / "hub" / "models--someone--tiny" / "refs").mkdir()
    (tmp_path / "hub" / "models--someone--tiny" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    lm = load_model("someone/tiny")
    assert lm.source == "someone/tiny" and lm.n_layers > 0


@pytest.mark.parametrize(("argv", "message"), [
    (["corpus", "build", "--source", "{words}", "--window", "0"], "--window must be at least 1"),
    (["corpus", "build", "--source", "{digits}"], "has no words"),
    (["corpus", "build", "--source", "{missing}"], "missing.txt"),
])
def test_corpus_build_refuses(tmp_path, capsys, argv, message):
    (tmp_path / "words.txt").write_text("apple banana cherry\n" * 20)
    (tmp_path / "digits.txt").write_text("12345 678\n99 00\n")
    paths = {"words": tmp_path / "words.txt", "digits": tmp_path / "digits.txt", "missing": tmp_path / "missing.txt"}
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv] + ["--out", str(tmp_path / "c"),
                                                                               "--no-progress"]
    _fails(capsys, argv, message)
    assert not (tmp_path / "c").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


@contextlib.contextmanager
def _mounted(tmp_path: Path, options: str):
    """A tmpfs mounted with ``options`` (root only); skips where mounting is not allowed."""
    point = tmp_path / f"mnt-{options.replace(',', '-').replace('=', '')}"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@contextlib.contextmanager
def _read_only(tmp_path: Path):
    """A folder this process cannot write: a read-only mount as root (root ignores permissions),
    a folder without write permission otherwise."""
    if os.geteuid() == 0:
        with _mounted(tmp_path, "ro,size=1m") as point:
            yield point
    else:
        point = tmp_path / "readonly"
        point.mkdir(mode=0o555)
        yield point


def test_read_only_output_is_refused_before_any_work(inputs, tmp_path, capsys):
    with _read_only(tmp_path) as folder:
        _fails(capsys, _mine_args(inputs, folder / "out"), "is not writable")
        _fails(capsys, ["corpus", "build", "--source", str(inputs[1] / "vocab.txt"), "--out", str(folder / "c"),
                        "--no-progress"], "is not writable")
        assert list(folder.iterdir()) == []


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(inputs, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    with _mounted(tmp_path, "size=24k") as folder:
        code = main(_mine_args(inputs, folder / "out"))
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1, err
        assert os.strerror(errno.ENOSPC) in err and "free some space" in err
        assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
