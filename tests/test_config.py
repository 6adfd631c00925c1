"""Stage configs: every bad value is refused on construction, with a one-line message naming the fix."""

from __future__ import annotations

import math

import pytest

from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig, available_cores, parse_workers
from superpose.core.errors import SuperposeError


def test_defaults_are_the_papers():
    config = MiningConfig()
    assert (config.theta_l, config.theta_u, config.kappa_l, config.kappa_u, config.k) == (0.1, 1.0, 10, 24, 10)
    assert config.to_json() == {"theta_l": 0.1, "theta_u": 1.0, "kappa_l": 10, "kappa_u": 24, "k": 10,
                                "backend": "bnb", "formulation": "strong", "time_limit": 120.0}
    assert ProjectionConfig().tau == 900 and ProjectionConfig().mode == "hi-c"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"theta_l": math.nan}, "--theta-l must be a number in \\[-1, 1\\]"),
    ({"theta_u": 1.5}, "--theta-u must be a number in \\[-1, 1\\]"),
    ({"theta_l": 0.5, "theta_u": 0.2}, "--theta-l \\(0.5\\) is above --theta-u"),
    ({"kappa_l": 0}, "--kappa-l must be at least 1"),
    ({"kappa_l": 30}, "--kappa-l \\(30\\) is above --kappa-u"),
    ({"kappa_u": 2.5}, "--kappa-u must be a whole number"),
    ({"k": 1}, "--k must be at least 2"),
    ({"k": 25}, "--k \\(25\\) is above --kappa-u \\(24\\)"),
    ({"backend": "gurobi"}, "unknown solver back-end 'gurobi'"),
    ({"formulation": "weak"}, "unknown formulation 'weak'"),
    ({"time_limit": 0}, "--time-limit must be a positive number"),
    ({"time_limit": math.inf}, "--time-limit must be a positive number"),
])
def test_mining_config_refuses(kwargs, message):
    with pytest.raises(SuperposeError, match=message) as info:
        MiningConfig(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "hi-x"}, "unknown mode 'hi-x'"),
    ({"tau": 0}, "--tau must be at least 1"),
    ({"tau": True}, "--tau must be a whole number"),
])
def test_projection_config_refuses(kwargs, message):
    with pytest.raises(SuperposeError, match=message):
        ProjectionConfig(**kwargs)


def test_workers_between_one_and_the_available_cores():
    cores = available_cores()
    assert ExecutionConfig(workers="auto").workers == cores
    assert ExecutionConfig(workers=1).workers == 1
    for bad in (0, -3, cores + 1, 100000):
        with pytest.raises(SuperposeError, match=f"--workers must be 1-{cores}"):
            ExecutionConfig(workers=bad)
    with pytest.raises(SuperposeError, match="whole number or 'auto'"):
        parse_workers("many")
    with pytest.raises(SuperposeError, match="unknown executor"):
        ExecutionConfig(executor="moon")
