"""The package's layout shows its concepts: one-way imports, no private names across modules, small modules.

These read the source (the AST), so they hold for imports hidden inside functions too.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "sigdist"
APPLICATION = {"sigdist.cli", "sigdist.demo", "sigdist.plotting", "sigdist.__main__", "sigdist.jacobian_cli",
               "sigdist.sweep_cli", "sigdist.training_cli"}
# modules allowed past ~500 lines, each with the one concept that needs the room
LONG_MODULES = {"sigdist.laws": 540}  # SquaredNormLaw: one law with its exact tails, inversions and moments
MAX_LINES = 520


def _modules():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name, path):
    """``(imported module, imported names)`` for every import of a sigdist module in ``path``."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "sigdist":
                continue
            names = [a.name for a in node.names]
            # "from . import x" imports the submodule x
            if node.module is None:
                found.extend((f"{target}.{n}", []) for n in names)
            else:
                found.append((target, names))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names if a.name.split(".")[0] == "sigdist")
    return found


MODULES = _modules()


def _resolve(target):
    # "sigdist.x.y" may name a module or a package's attribute
    while target and target not in MODULES:
        target = target.rsplit(".", 1)[0] if "." in target else ""
    return target


def test_no_module_imports_another_modules_private_names():
    bad = []
    for name, path in MODULES.items():
        for target, names in _imports(name, path):
            target = _resolve(target)
            if target and target != name and not target.startswith(name + "."):
                bad += [f"{name} imports {n} from {target}" for n in names if n.startswith("_") and n != "__version__"]
    assert not bad, "\n".join(bad)


def test_imports_have_no_cycle_even_inside_functions():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _ in _imports(name, path):
            target = _resolve(target)
            # a package's __init__ re-exports its submodules: that edge is not a dependency of theirs
            if target and target != name and not target.startswith(name + ".") and target != "sigdist":
                graph[name].add(target)
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_numerics_never_import_the_application_layer():
    bad = []
    for name, path in MODULES.items():
        if name in APPLICATION or name == "sigdist":
            continue
        for target, _ in _imports(name, path):
            if _resolve(target) in APPLICATION:
                bad.append(f"{name} imports {target}")
        if "matplotlib" in path.read_text():
            bad.append(f"{name} mentions matplotlib")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small_enough_to_hold_one_concept(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= LONG_MODULES.get(name, MAX_LINES), f"{name} has {lines} lines"


def test_the_package_namespace_lists_its_submodules_and_analyses():
    import sigdist

    for sub in ("network", "kernel", "operator", "laws", "moments", "spectrum", "correlation", "weights"):
        assert getattr(sigdist, sub).__name__ == f"sigdist.{sub}"
    for name in sigdist.__all__:
        assert hasattr(sigdist, name), name
