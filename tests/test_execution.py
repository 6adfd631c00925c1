"""Executors: the same results as the serial reference, errors surfaced, no worker outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from superpose.config import ExecutionConfig
from superpose.core.errors import SuperposeError
from superpose.execution import executor_names, make_executor
from tests.execution_helpers import add_offset, die_on_two, fail_on_three, setup_offset

ROOT = Path(__file__).resolve().parents[1]


def test_registry_lists_the_default_first():
    assert executor_names()[0] == "local" and "serial" in executor_names()


@pytest.mark.parametrize("config", [ExecutionConfig(executor="serial"), ExecutionConfig(workers=1),
                                    ExecutionConfig(workers=2)])
def test_every_executor_gives_the_serial_results(config):
    tasks = (i for i in range(25))  # a generator: consumed as the workers need it
    results = make_executor(config).map_unordered(add_offset, partial(setup_offset, 100), tasks)
    assert sorted(results) == list(range(100, 125))


def test_a_job_error_reaches_the_caller():
    with pytest.raises(SuperposeError, match="task three is bad"):
        list(make_executor(ExecutionConfig(workers=2)).map_unordered(fail_on_three, partial(setup_offset, 0),
                                                                      range(6)))


def test_a_dead_worker_is_a_one_line_error():
    with pytest.raises(SuperposeError, match="worker process died \\(exit code 7\\)"):
        list(make_executor(ExecutionConfig(workers=2)).map_unordered(die_on_two, partial(setup_offset, 0),
                                                                      range(6)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_worker_outlives_its_parent(tmp_path, sig):
    script = ("import sys; from functools import partial\n"
              "from superpose.config import ExecutionConfig\n"
              "from superpose.execution import make_executor\n"
              "from tests.execution_helpers import report_pid_then_sleep, setup_offset\n"
              f"list(make_executor(ExecutionConfig(workers=2)).map_unordered(report_pid_then_sleep, "
              f"partial(setup_offset, {str(tmp_path)!r}), range(4)))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # Ctrl-C at its default, as in a terminal (a background job may have been started with it ignored)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("worker-*"))) < 2:
        assert time.monotonic() < deadline, "workers did not start"
        assert parent.poll() is None
        time.sleep(0.1)
    workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
    parent.send_signal(sig)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
