"""The package layers: a module imports only its own package and the packages below it, and no
chain of module-level imports comes back to where it started."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# Lowest first. A package may import itself and anything before it, never what comes after.
LAYERS = (
    "errors",
    "atomic",
    "environment",
    "extras",
    "install_check",
    "task_arguments",
    "config",
    "config_checks",
    "report",
    "audio",  # decoding, probing, the probed-file record
    "data",  # captions, labelled sets, the folder DataModule, sampling, shards
    "synth",  # the built-in dataset, written in data's layout
    "prepare",  # downloaded datasets -> data's layout
    "models",
    "checkpoint",  # the checkpoint format; rebuilds a network from muscall.models
    "augment",
    "losses",
    "evaluate",  # embedding, retrieval and classification metrics, zero-shot
    "plots",
    "export",
    "hf_checkpoint",  # a Hugging Face CLAP model as a checkpoint (ckpt_path=hf:...)
    "pretrained",  # models that need no training (ckpt_path=pretrained:tagbridge)
    "model_sources",  # the one resolver of a model path: checkpoint, exported folder, ...
    "library",
    "api",
    "serve",
    "lightning",
    "runs",  # run plumbing: assembly, loggers, resume, evaluation of a checkpoint, sweeps
    "tasks",  # one run(cfg) each
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / "muscall").rglob("*.py")}


def _top_level_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules imported when `path` runs (not inside functions, not under TYPE_CHECKING)."""
    found = set()
    for node in _executed(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)  # the package's __init__ runs too
            found |= {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
    return {name for name in found if name in modules}


def _executed(body):
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            yield from _executed(node.body + getattr(node, "orelse", []))
            for handler in getattr(node, "handlers", []):
                yield from _executed(handler.body)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else len(LAYERS)


def _all_imports(path: Path) -> set[str]:
    """Every muscall module named in an import anywhere in the file, functions included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {n for n in names if n.startswith("muscall.")}


def test_every_package_has_a_layer():
    packages = {m.split(".")[1] for m in _modules() if "." in m}
    assert packages <= set(LAYERS), f"add to LAYERS: {sorted(packages - set(LAYERS))}"


def test_no_module_imports_a_higher_layer():
    upward = []
    for module, path in sorted(_modules().items()):
        for imported in sorted(_all_imports(path)):
            if _layer(imported) > _layer(module):
                upward.append(f"{module} -> {imported}")
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_no_import_cycle():
    modules = _modules()
    graph = {m: _top_level_imports(p, modules) - {m} for m, p in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return stack[stack.index(imported) :] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_the_cycle_check_sees_a_package_imported_from_its_own_submodule(tmp_path):
    # What `from muscall.lightning import distributed` in lightning/module.py used to be.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.module import thing\n")
    (package / "module.py").write_text("from pkg import helper\nthing = 1\n")
    (package / "helper.py").write_text("")
    modules = {"pkg": package / "__init__.py", "pkg.module": package / "module.py"}
    modules["pkg.helper"] = package / "helper.py"
    assert "pkg" in _top_level_imports(package / "module.py", modules)
