"""The package follows its data flow: no module imports from a stage that comes after it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "superpose"

# Stages in data-flow order; a module may import its own stage and any earlier one. Infrastructure
# (core, config, execution) comes first; config only names the registries' choices.
ORDER = ["core", "config", "execution", "corpus", "models", "units", "projection", "mining", "llm", "concepts",
         "input_side", "compare", "api", "pipeline", "report", "cli", "__init__", "__main__"]
# Lazy lookups of registry names for the CLI's choices (no data flows back).
ALLOWED = {("config", "mining"), ("config", "execution")}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_module_imports_a_later_stage():
    rank = {stage: i for i, stage in enumerate(ORDER)}
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "superpose." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        stage = _stage(module.removesuffix(".__init__")) if module != "superpose.__init__" else "__init__"
        assert stage in rank, f"{module}: stage {stage!r} missing from ORDER"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if not name.startswith("superpose."):
                    continue
                target = _stage(name)
                if rank[target] > rank[stage] and (stage, target) not in ALLOWED:
                    problems.append(f"{module} imports {name}")
    assert problems == []
