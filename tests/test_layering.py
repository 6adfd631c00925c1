"""The package follows its data flow: no module imports from a stage that comes after it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "superpose"

# Stages in data-flow order; a module may import its own stage and any earlier one. Infrastructure
# (core, config, execution) comes first; config only names the registries' choices.
ORDER = ["core", "config", "execution", "corpus", "models", "units", "projection", "mining", "activations",
         "explainer", "concepts", "input_side", "compare", "explanations", "api", "pipeline", "report", "cli",
         "__init__", "__main__"]
# config names the registries' choices (file names, nothing imported; no data flows back).
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


def _imports(tree: ast.AST) -> list[str]:
    """Every ``superpose`` module a module imports, at the top or inside a function (not under TYPE_CHECKING)."""
    typing_only = {id(sub) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) for sub in ast.walk(node)}
    names = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n.startswith("superpose.")]


def test_no_import_cycles():
    """No two modules import each other, directly or around a loop (an import inside a function
    only hides a loop until the function runs)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name = "superpose." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        targets = {t for t in _imports(ast.parse(path.read_text(encoding="utf-8"))) if t in modules}
        # a package's own __init__ runs before its modules: that edge is no loop
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    done, path_stack, cycles = set(), [], []

    def visit(node):
        if node in path_stack:
            cycles.append(path_stack[path_stack.index(node):] + [node])
            return
        if node in done:
            return
        path_stack.append(node)
        for target in sorted(graph[node]):
            visit(target)
        path_stack.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert cycles == []
