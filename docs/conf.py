"""Sphinx configuration of the sigdist documentation site.

Build (from the repository root, after ``pip install ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``SIGDIST_DOCS_QUICK=1`` makes the gallery examples use small sample sizes (what CI builds).
Nothing is fetched from the network at build time (no intersphinx).
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout itself, installed or not

import sigdist  # noqa: E402

project = "sigdist"
author = "sigdist contributors"
copyright = "sigdist contributors"
release = version = sigdist.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "api/generated/*.examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
templates_path = ["_templates"]

# --- API reference: autosummary writes one page per public name into docs/api/generated (gitignored)
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's __all__ is its public list (sigdist.montecarlo)
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_default_options = {"member-order": "bysource"}
try:  # without the mc extra, document sigdist.montecarlo.simulate without importing torch
    import torch  # noqa: F401
except ImportError:
    autodoc_mock_imports = ["torch"]

numpydoc_show_class_members = False  # classes' members are on their autosummary pages
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()  # the docstrings are checked by review, not by the build
numpydoc_xref_param_type = False
nitpicky = False

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing"]

# --- gallery: examples/plot_*.py -> docs/auto_examples (gitignored)
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": None,
    "doc_module": ("sigdist",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "matplotlib_animations": False,
}
os.environ.setdefault("MPLBACKEND", "Agg")

# --- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"sigdist {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False


# --- autosummary cuts a docstring's summary at "... ", leaving an inline literal open: inside literals the
# three dots are rendered as one ellipsis character (the rendered text only)
def _repair_docstring(app, what, name, obj, options, lines):
    import re

    for i, line in enumerate(lines):
        # "``T_L ... T_1``": autosummary cuts a summary at "... " and leaves a literal open
        lines[i] = re.sub(r"``[^`]*``", lambda m: m.group(0).replace("...", "\u2026"), line)


def setup(app):
    app.connect("autodoc-process-docstring", _repair_docstring)
