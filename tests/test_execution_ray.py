"""The Ray executor on a local 2-CPU cluster: serial results, byte-identical mining files, a dying
worker's shard redone (nothing lost or doubled), errors as one line. Skipped without Ray installed
(``pip install 'superpose[ray]'``; ``make test`` installs it)."""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from superpose.cli import main  # noqa: E402
from superpose.config import ExecutionConfig  # noqa: E402
from superpose.core.errors import SuperposeError  # noqa: E402
from superpose.execution import executor_names, make_executor  # noqa: E402
from superpose.execution.ray import RayExecutor  # noqa: E402
from tests.execution_helpers import add_offset, fail_on_three, setup_offset  # noqa: E402
from tests.mining_helpers import make_corpus, make_model  # noqa: E402
from tests.ray_helpers import die_always, die_once  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster with 2 CPUs for the module; workers import this checkout's tests."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             object_store_memory=200 * 2**20, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


def test_ray_is_an_executor_with_an_address_option(monkeypatch):
    assert "ray" in executor_names()
    with pytest.raises(SuperposeError, match="is not host:port"):
        ExecutionConfig(executor="ray", address="nowhere")
    monkeypatch.setattr("superpose.execution.ray.check_address", lambda address: None)
    executor = make_executor(ExecutionConfig(executor="ray", workers=1, address="10.1.2.3:6379"))
    assert isinstance(executor, RayExecutor) and executor.address == "10.1.2.3:6379"
    assert make_executor(ExecutionConfig(executor="ray", workers=1)).address is None
    with pytest.raises(SuperposeError, match="--address is for --executor ray"):
        ExecutionConfig(address="10.1.2.3:6379")


def test_building_a_config_with_an_address_opens_no_connection(monkeypatch):
    """Only the syntax is checked on construction; the cluster is contacted when the executor is made."""
    calls = []

    def connect(*args, **kwargs):
        calls.append(args)
        raise OSError(111, "Connection refused")

    monkeypatch.setattr("socket.create_connection", connect)
    config = ExecutionConfig(executor="ray", workers=1, address="127.0.0.1:9")
    assert calls == []
    with pytest.raises(SuperposeError, match="does not answer"):
        make_executor(config)
    assert calls == [(("127.0.0.1", 9),)]


def test_ray_gives_the_serial_results_in_shards(cluster):
    executor = RayExecutor(workers=2, shard=4)
    results = executor.map_unordered(add_offset, partial(setup_offset, 100), (i for i in range(25)))
    assert sorted(results) == list(range(100, 125))
    assert ray.is_initialized()  # a cluster it did not start is left running


def test_a_job_error_reaches_the_caller_as_it_is(cluster):
    with pytest.raises(SuperposeError, match="task three is bad"):
        list(RayExecutor(workers=2, shard=2).map_unordered(fail_on_three, partial(setup_offset, 0), range(8)))


def test_a_dying_worker_has_its_shard_redone(cluster, tmp_path):
    results = list(RayExecutor(workers=2, shard=3).map_unordered(die_once, partial(setup_offset, str(tmp_path)),
                                                                 range(12)))
    assert sorted(results) == list(range(12))  # nothing lost, nothing doubled
    assert (tmp_path / "died").is_file()
    ran = [p.name.split("-")[1] for p in tmp_path.glob("ran-*")]
    assert sorted(set(ran), key=int) == [str(i) for i in range(12)]
    assert sorted(ran.count(str(t)) for t in (3, 4)) == [2, 2]  # 5's shard-mates ran again, once


def test_a_worker_that_always_dies_is_a_one_line_error(cluster):
    with pytest.raises(SuperposeError, match="a shard failed 4 times on the Ray cluster") as info:
        list(RayExecutor(workers=2, shard=2).map_unordered(die_always, partial(setup_offset, 0), range(4)))
    assert "\n" not in str(info.value)


def test_an_address_that_does_not_answer_is_one_line(tmp_path, capsys):
    """Checked with the options, before the corpus or the model is read."""
    started = time.monotonic()
    code = main(["mine", "--corpus", str(tmp_path / "c"), "--out", str(tmp_path / "o"), "--executor", "ray",
                 "--address", "127.0.0.1:9", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and time.monotonic() - started < 30
    assert err.startswith("superpose: error: the Ray cluster at 127.0.0.1:9 does not answer")
    assert list(tmp_path.iterdir()) == []


def test_ray_and_local_give_byte_identical_files(cluster, tmp_path):
    model, corpus = make_model(tmp_path), make_corpus(tmp_path)
    common = ["mine", "--corpus", str(corpus), "--model", str(model), "--layers", "0-1", "--tau", "40",
              "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--no-progress"]
    assert main(common + ["--out", str(tmp_path / "local"), "--workers", "2"]) == 0
    assert main(common + ["--out", str(tmp_path / "ray"), "--workers", "2", "--executor", "ray"]) == 0
    local = tmp_path / "local" / "tiny-llama" / "hi-c"
    remote = tmp_path / "ray" / "tiny-llama" / "hi-c"
    names = sorted(p.name for p in local.iterdir() if p.name.endswith((".txt", ".csv", ".csv.gz")))
    assert len(names) > 100 and names == sorted(p.name for p in remote.iterdir()
                                                if p.name.endswith((".txt", ".csv", ".csv.gz")))
    assert all((local / n).read_bytes() == (remote / n).read_bytes() for n in names)
    assert sys.modules.get("ray") is ray
