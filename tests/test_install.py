"""Installation concerns: sigdist must import and run where numba cannot write a cache."""

import os
import pathlib
import shutil
import subprocess
import sys

import numba
import numpy as np
import pytest

import sigdist
from sigdist._numba import njit

_SOURCE_WITHOUT_FILE = "def twice(x):\n    return 2.0 * x\n"


def _function_without_source_file():
    # exec'd code has no file on disk: numba finds no cache locator for it, as on a read-only install
    namespace = {}
    exec(compile(_SOURCE_WITHOUT_FILE, "<no file>", "exec"), namespace)
    return namespace["twice"]


def test_numba_cache_true_has_no_locator_for_such_a_function():
    # the premise of the fallback: plain numba refuses at decoration time
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(_function_without_source_file())


@pytest.mark.parametrize("decorate", [lambda f: njit(f), lambda f: njit(nogil=True)(f)], ids=["bare", "options"])
def test_njit_falls_back_to_no_cache_when_no_cache_is_writable(decorate):
    compiled = decorate(_function_without_source_file())
    assert compiled(np.float64(3.0)) == 6.0


def test_import_sigdist_works_on_a_read_only_install(tmp_path):
    # a copy of the package where no cache directory can be created: every __pycache__ is a regular file
    # (so numba's in-tree locator fails even for root), and the user cache and NUMBA_CACHE_DIR lie under a file
    pkg = tmp_path / "site"
    shutil.copytree(pathlib.Path(sigdist.__file__).parent, pkg / "sigdist",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [pkg / "sigdist", *[p for p in (pkg / "sigdist").rglob("*") if p.is_dir()]]:
        (folder / "__pycache__").write_text("not a directory")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    env = dict(os.environ, PYTHONPATH=str(pkg), PYTHONDONTWRITEBYTECODE="1",
               XDG_CACHE_HOME=str(blocker / "cache"), HOME=str(blocker / "home"),
               NUMBA_CACHE_DIR=str(blocker / "numba"))
    env.pop("NUMBA_CACHE_LOCATOR_CLASSES", None)
    code = ("import sigdist, sigdist.kernel as k; from sigdist import Layer; "
            "assert sigdist.__file__.startswith(%r); "
            "print(float(k.kernel_cdf(Layer(10, 0.2), 1.0, 1.0)))" % str(pkg))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert 0.0 < float(out.stdout.strip()) < 1.0
