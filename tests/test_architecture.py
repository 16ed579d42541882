"""The layout rules: stages only wire (no stage imports another) and dvc.yaml lists exactly the code each stage runs."""

import ast
from pathlib import Path

import yaml
from conftest import REPO
from tools.imports import code_deps

STAGES = ("prepare", "validate", "tune", "register", "attribute", "evaluate", "data_randomization", "replicates", "report")


def test_no_stage_imports_another_stage():
    for path in sorted((REPO / "src" / "medsaliency" / "stages").glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not {name for name in imported if name.startswith("medsaliency.stages")}, f"{path.name} imports a stage"


def test_dvc_yaml_lists_exactly_the_code_each_stage_runs():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for stage in STAGES:
        definition = stages[stage].get("do", stages[stage])
        listed = sorted(dep for dep in definition["deps"] if dep.startswith(("src/", "pipelines/")))
        expected = code_deps(REPO, stage)
        assert listed == expected, f"dvc.yaml stage {stage!r}: code deps should be\n" + "\n".join(f"  - {dep}" for dep in expected)
        assert all((REPO / dep).exists() for dep in listed)


def test_the_import_walk_sees_function_level_imports():
    from tools.imports import closure

    found = closure(REPO / "src", "medsaliency.stages.evaluate")
    assert "medsaliency.evaluation.model_evaluation" in found  # imported inside run()
    assert "medsaliency.mlops.registry" in found and "medsaliency.stages.attribute" not in found
    assert all(isinstance(path, Path) and path.is_file() for path in found.values())


def test_the_modules_import_each_other_without_a_cycle():
    """Every import counts (function-level and ``TYPE_CHECKING`` ones too), as in the project's
    ``import_cycles.py`` check: tables and the families they list declare what they read of the params
    (protocols) instead of importing ``config`` back."""
    from graphlib import CycleError, TopologicalSorter

    from tools.imports import imported_modules

    src = REPO / "src"
    graph = {}
    for path in (src / "medsaliency").rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        # a module importing its own package's __init__ (a re-export) is not a loop through its siblings
        graph[module] = {name for name in imported_modules(path, module) if not (module + ".").startswith(name + ".")}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None
