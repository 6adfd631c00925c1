"""`superpose demo` (what `make demo` runs) end to end on a small slice of the embedded defaults."""

from __future__ import annotations

import pytest

from superpose.cli import main


@pytest.mark.slow
def test_demo_runs_every_stage(tmp_path, capsys):
    code = main(["demo", "--corpus-out", str(tmp_path / "corpus"), "--out", str(tmp_path / "demo"),
                 "--layers", "15", "--neurons", "0-3", "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "NPMI coherence of example word sets" in out and "Best topics" in out
    assert (tmp_path / "demo" / "report" / "index.html").is_file()
