"""The documentation site's sources are complete and consistent (no Sphinx needed: the build itself runs in
.ci/run, `python -m sphinx -W ...`): every public name is in the API reference, every gallery example is a
sphinx-gallery script that runs without torch and has a quick mode, every gallery link points to an example,
and the documented build command is the one CI runs."""

import ast
import inspect
import pathlib
import re

import sigdist

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
BUILD = "python -m sphinx -W --keep-going -b html docs docs/_build/html"


def _api_entries():
    text = (DOCS / "api" / "index.rst").read_text()
    return set(re.findall(r"^   ([A-Za-z_][\w.]*)$", text, flags=re.M))


def test_every_public_name_is_in_the_api_reference():
    missing = sorted(set(sigdist.__all__) - _api_entries())
    assert not missing, f"names of sigdist.__all__ missing from docs/api/index.rst: {missing}"


def test_api_reference_lists_only_names_that_exist():
    unknown = sorted(n for n in _api_entries() if not hasattr(sigdist, n))
    assert not unknown, unknown


def test_every_public_submodule_is_in_the_recursive_reference():
    modules = {n for n in sigdist.__all__ if inspect.ismodule(getattr(sigdist, n))}
    assert "montecarlo" in modules and "spectrum" in modules
    assert modules <= _api_entries()


def _examples():
    return sorted(EXAMPLES.glob("plot_*.py"))


def test_gallery_examples_are_sphinx_gallery_scripts_without_torch():
    assert len(_examples()) >= 9
    for path in _examples():
        tree = ast.parse(path.read_text())
        doc = ast.get_docstring(tree)
        assert doc and re.match(r".+\n=+\n", doc), f"{path.name}: no sphinx-gallery title header"
        imported = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "torch" not in imported, f"{path.name} imports torch: the gallery must run without it"
        assert "SIGDIST_DOCS_QUICK" in path.read_text(), f"{path.name} has no quick mode"


def test_gallery_links_point_to_examples():
    names = {p.stem for p in _examples()}
    for page in list(DOCS.rglob("*.rst")):
        if "generated" in page.parts or "auto_examples" in page.parts:
            continue
        for ref in re.findall(r"sphx_glr_auto_examples_(\w+?)\.py", page.read_text()):
            assert ref in names, f"{page.relative_to(ROOT)} links to a missing example {ref}"


def test_the_documented_build_command_is_the_one_ci_runs():
    for page in (ROOT / "README.md", DOCS / "getting_started.rst", DOCS / "howto.rst", DOCS / "conf.py"):
        assert BUILD in page.read_text(), f"{page.name} does not give the build command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "SIGDIST_DOCS_QUICK=1" in ci and "python -m sphinx -W --keep-going" in ci
    assert '".[docs]"' in ci


def test_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^python -m pytest -q$", ci, flags=re.M)
    assert "&& python -m pytest -q\n```" in (ROOT / "README.md").read_text()
