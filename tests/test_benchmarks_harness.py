"""The benchmarks' shared harness: machine facts, the result header, a child's own peak memory."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("harness", ROOT / "benchmarks" / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_machine_names_the_cpu_cores_memory_and_load(harness):
    facts = harness.machine()
    assert facts["cores_available"] >= 1 and facts["cores_host"] >= facts["cores_available"]
    assert facts["memory_gb"] > 0 and len(facts["load_average"]) == 3
    assert isinstance(facts["cpu"], str) and facts["cpu"]


def test_write_result_keeps_the_payload_under_the_header_and_leaves_no_temporary(harness, tmp_path):
    start = harness.machine()
    out = harness.write_result(tmp_path / "sub" / "r.json", {"wall_s": 1.5, "created": "kept"}, start=start)
    data = json.loads(out.read_text())
    assert data["wall_s"] == 1.5 and data["created"] == "kept"  # the payload's own keys win
    assert data["machine"]["load_average"] == start["load_average"] and len(data["machine"]["load_average_end"]) == 3
    assert data["versions"]["python"] and "numpy" in data["versions"] and data["argv"]
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]


def test_write_result_leaves_the_old_file_when_the_payload_cannot_be_written(harness, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    with pytest.raises(TypeError):
        harness.write_result(out, {"bad": object()})
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_run_child_returns_the_last_json_line_and_the_childs_own_peak(harness):
    grow = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('noise'); print('{\"n\": 3}')"
    small = "print('{\"n\": 1}')"
    big, big_peak, wall, cpu = harness.run_child([sys.executable, "-c", grow])
    assert big == {"n": 3} and big_peak > 200 and wall > 0 and cpu >= 0
    # after a big child, and from a big parent, a small child's peak is its own: not the maximum over
    # all children, nor this process's memory carried across exec
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    tiny, tiny_peak, _, _ = harness.run_child([sys.executable, "-c", small])
    assert tiny == {"n": 1} and 0 < tiny_peak < 100 and len(ballast) > 0


def test_run_child_fails_clearly_on_a_failing_child(harness):
    with pytest.raises(SystemExit, match="exit code 3"):
        harness.run_child([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(SystemExit, match="exit code 137"):  # killed by a signal: 128 + 9, as a shell says
        harness.run_child([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    with pytest.raises(SystemExit, match="exit code 127"):
        harness.run_child(["/nonexistent/benchmark"])
    with pytest.raises(SystemExit, match="printed no result"):
        harness.run_child([sys.executable, "-c", "pass"])


def test_parser_takes_the_librarys_defaults(harness):
    from superpose.config import ExecutionConfig
    from superpose.models.embedded import DEFAULT_MODEL

    args = harness.parser("doc", "results/x.json", model=True, workers=True, threads=2).parse_args([])
    assert (args.out, args.model, args.workers, args.threads) == ("results/x.json", DEFAULT_MODEL,
                                                                  ExecutionConfig.workers, 2)
    old = harness.parser("doc", "a.json", out_alias="--json").parse_args(["--json", "b.json"])
    assert old.out == "b.json"
