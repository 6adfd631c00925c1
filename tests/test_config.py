"""Stage configs: every bad value is refused on construction, with a one-line message naming the fix."""

from __future__ import annotations

import ast
import dataclasses
import math
import typing
import warnings
from pathlib import Path

import pytest

import superpose.config as config
from superpose.cli import _commands, build_parser
from superpose.cli.args import option_dest
from superpose.config import (
    Backend,
    CompareParams,
    CorpusParams,
    ExecutionConfig,
    ExplainBackend,
    MiningConfig,
    Placement,
    ProjectionConfig,
    RecordParams,
    SteeringParams,
    TopTokensParams,
    available_cores,
    parse_workers,
)
from superpose.core.errors import SuperposeError

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [c for c in vars(config).values()
           if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == config.__name__]


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
    ({"solver": "gurobi"}, "unknown solver back-end 'gurobi'"),
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


def test_every_config_is_frozen_and_documented():
    assert {c.__name__ for c in CONFIGS} >= {"ProjectionConfig", "MiningConfig", "ExecutionConfig", "Placement",
                                             "CorpusParams", "RecordParams", "Backend", "CompareParams",
                                             "SteeringParams"}
    for cls in CONFIGS:
        assert cls.__dataclass_params__.frozen, cls.__name__
        for f in dataclasses.fields(cls):
            nested = dataclasses.is_dataclass(f.type) or dataclasses.is_dataclass(f.default_factory)  # own fields' help
            assert nested or f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"
        required = {"method": "pca"} if cls.__name__ == "ConceptConfig" else {}  # the one choice without a default
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(cls(**required), dataclasses.fields(cls)[0].name, None)


@pytest.mark.parametrize(("cls", "kwargs", "message"), [
    (CorpusParams, {"window": 0}, "--window must be at least 1"),
    (CorpusParams, {"min_count": 2.5}, "--min-count must be a whole number"),
    (CorpusParams, {"windowing": "sliding"}, "unknown windowing 'sliding'"),
    (CorpusParams, {"stopwords": "drop"}, "unknown stopwords rule 'drop'"),
    (CorpusParams, {"max_vocab": 0}, "--max-vocab must be at least 1"),
    (CorpusParams, {"min_windows": 3}, "applies under --convention lim-lauw only"),
    (CorpusParams, {"convention": "lim-lauw", "windowing": "raw"}, "drop --windowing raw"),
    (RecordParams, {"seq_len": 0}, "--seq-len must be at least 1"),
    (RecordParams, {"n_random": -1}, "--random must be at least 0"),
    (RecordParams, {"spill_limit_gb": -1.0}, "--spill-limit must be 0 or more GiB"),
    (Backend, {"kind": ""}, "--backend must name a chat client kind"),
    (Backend, {"concurrency": 0}, "--concurrency must be at least 1"),
    (Backend, {"timeout": 0}, "--timeout must be a positive number of seconds"),
    (Backend, {"retries": -1}, "--retries must be at least 0"),
    (CompareParams, {"max_topics": 0}, "--max-topics must be at least 1"),
    (CompareParams, {"score_records": -1}, "--score-records must be 0"),
    (CompareParams, {"bootstrap": 10}, "--bootstrap must be at least 100"),
    (SteeringParams, {"quantile": 1.5}, "--steer-quantile must be in \\[0, 1\\]"),
    (SteeringParams, {"gain": 0}, "--steer-gain must be positive"),
    (SteeringParams, {"new_tokens": 0}, "--steer-tokens must be at least 1"),
    (SteeringParams, {"top_tokens": -1}, "--steer-top-tokens must be at least 0"),
    (TopTokensParams, {"count": 0}, "--tokens must be 1-100"),
    (TopTokensParams, {"rank": "max"}, "unknown --token-rank 'max'"),
    (TopTokensParams, {"share": 1.5}, "--token-share must be a share from 0 to 1"),
    (Placement, {"dtype": "float64"}, "unknown dtype 'float64'"),
    (ExecutionConfig, {"address": "10.0.0.5:6379"}, "--address is for --executor ray"),
])
def test_each_config_refuses_a_bad_value_on_construction(cls, kwargs, message):
    with pytest.raises(SuperposeError, match=message) as info:
        cls(**kwargs)
    assert "\n" not in str(info.value)


def _fields_by_dest(cls: type) -> dict[str, dataclasses.Field]:
    """Every option a command dataclass declares, nested configs included, by its argparse dest."""
    hints = typing.get_type_hints(cls)
    found: dict[str, dataclasses.Field] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        inner = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
        if dataclasses.is_dataclass(inner[0]):
            nested = _fields_by_dest(inner[0])
            assert not set(nested) & set(found), f"{cls.__name__}: two fields claim {set(nested) & set(found)}"
            found.update(nested)
        else:
            assert option_dest(f) not in found, f"{cls.__name__}: two fields claim {option_dest(f)}"
            found[option_dest(f)] = f
    return found


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from _subparsers(sub)


def test_every_cli_default_is_the_dataclass_default():
    """Walk every command's parser: each option comes from one dataclass field and shows its default."""
    parsers = {sub._defaults["_command"].args_type: sub for sub in _subparsers(build_parser())
               if "_command" in sub._defaults}
    assert set(parsers) == {cmd.args_type for cmd in _commands()}
    for cls, parser in parsers.items():
        fields = _fields_by_dest(cls)
        actions = {a.dest: a for a in parser._actions if a.dest not in ("help",)}
        assert set(actions) == set(fields), cls.__name__
        for dest, f in fields.items():
            if f.default is not dataclasses.MISSING:
                want = f.default
            elif f.default_factory is not dataclasses.MISSING:
                want = None if isinstance(f.default_factory(), list) and not f.metadata.get("positional") \
                    else f.default_factory()
            else:
                assert actions[dest].required or f.metadata.get("positional"), f"{cls.__name__}.{f.name}"
                continue
            assert actions[dest].default == want, f"{cls.__name__} --{dest}: {actions[dest].default!r} != {want!r}"
            flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
            assert f.metadata.get("positional") or flag in actions[dest].option_strings


def test_renamed_flags_keep_their_names():
    parser = build_parser()
    ns = parser.parse_args(["activations", "--out", "o", "--layers", "3", "--random", "7", "--spill-limit", "2"])
    from superpose.cli.args import namespace_to_dataclass

    args = namespace_to_dataclass(ns, ns._command.args_type)
    assert args.params == RecordParams(n_random=7, spill_limit_gb=2.0)
    ns = parser.parse_args(["explain", "--records", "r", "--layer", "0", "--neurons", "0", "--backend", "openai",
                            "--base-url", "http://x/v1"])
    args = namespace_to_dataclass(ns, ns._command.args_type)
    assert args.backend == ExplainBackend(kind="openai", base_url="http://x/v1")  # explain's own default kind
    ns = parser.parse_args(["compare", "--results", "r", "--explanations", "e", "--out", "o", "--steer-gain", "2",
                            "--steer-top-tokens", "3", "--max-topics", "2"])
    args = namespace_to_dataclass(ns, ns._command.args_type)
    assert args.steering == SteeringParams(gain=2.0, top_tokens=3) and args.params == CompareParams(max_topics=2)
    ns = parser.parse_args(["mine", "--corpus", "c", "--out", "o", "--solver", "highs"])
    assert namespace_to_dataclass(ns, ns._command.args_type).mining.solver == "highs"


def test_the_solver_keeps_its_run_json_key():
    """run.json records the solver as "backend" (runs made before the rename resume), and reads it back."""
    recorded = {"theta_l": 0.1, "theta_u": 1.0, "kappa_l": 10, "kappa_u": 24, "k": 10, "backend": "highs",
                "formulation": "strong", "time_limit": 120.0}
    assert MiningConfig.from_json(recorded) == MiningConfig(solver="highs")
    assert MiningConfig.from_json(recorded).to_json() == recorded
    assert list(MiningConfig().to_json()) == list(recorded)  # same keys, same order


def test_backend_keyword_is_a_deprecated_alias_of_solver(monkeypatch):
    import superpose.api as api

    with pytest.warns(DeprecationWarning, match="backend= is now solver="):
        assert MiningConfig.from_kwargs(backend="highs") == MiningConfig(solver="highs")
    seen = []
    monkeypatch.setattr(api, "_mine", lambda model, corpus, layer, unit, projection, mining, polarity:
                        seen.append(mining))
    with pytest.warns(DeprecationWarning):
        api.mine_unit("m", "c", 0, 0, backend="highs")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.mine_unit("m", "c", 0, 0, solver="highs")
    assert seen == [MiningConfig(solver="highs")] * 2
    with pytest.raises(SuperposeError, match="unknown mining parameter\\(s\\) thetal"):
        api.mine_unit("m", "c", 0, 0, thetal=0.2)


# Keyword arguments and script options named like a config field but meaning something else.
OTHER_MEANINGS = {"model",  # the model under study (superpose.models.embedded.DEFAULT_MODEL), not the explainer's
                  "k", "batch_size"}  # neighbours and forward batches of token dispersion, not topic words
# Scripts other engineers are rewriting at the time of this test; they take config defaults in their rewrite.
BEING_REWRITTEN = {"bench_mine.py", "bench_puzzles.py", "bench_corpus_scale.py"}


def _retyped_defaults(path: Path, known: dict[str, list[tuple[str, object]]]) -> list[str]:
    """Function defaults, ``add_argument(default=...)`` and ``option(...)`` defaults in ``path`` that repeat the
    literal default of the config field of the same name."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs += list(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults,
                              strict=True))
            pairs += [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument" and node.args \
                and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("--"):
            name = str(node.args[0].value).lstrip("-").replace("-", "_")
            pairs += [(name, k.value) for k in node.keywords if k.arg == "default"]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "option" \
                and len(node.value.args) > 1:
            pairs.append((node.target.id, node.value.args[1]))
        for name, default in pairs:
            try:
                value = ast.literal_eval(default)
            except ValueError:
                continue  # a name (ProjectionConfig.tau): read from the config, as it should be
            hits += [f"{path.relative_to(ROOT)}:{default.lineno}: {name}={value!r} retypes {owner}"
                     for owner, want in known.get(name, []) if type(value) is type(want) and value == want]
    return hits


def test_no_default_is_retyped_in_the_library_or_the_scripts():
    known: dict[str, list[tuple[str, object]]] = {}
    for cls in CONFIGS:
        for f in dataclasses.fields(cls):
            # None, booleans, 0 and 1 are everyone's defaults; a distinctive value repeated is a second home
            if f.default is dataclasses.MISSING or f.default in (None, True, False, 0, 1):
                continue
            for name in {f.name, option_dest(f)} - OTHER_MEANINGS:
                known.setdefault(name, []).append((f"{cls.__name__}.{f.name}", f.default))
    files = [p for folder in ("superpose", "benchmarks") for p in sorted((ROOT / folder).rglob("*.py"))
             if p.name not in BEING_REWRITTEN and p != ROOT / "superpose" / "config.py"]
    hits = [hit for path in files for hit in _retyped_defaults(path, known)]
    assert hits == []
