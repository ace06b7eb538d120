import json
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


HAS_TORCH = _torch_available()

#: modules that import torch at import time: their doctests are collected only where torch is installed
TORCH_ONLY_MODULES = ("sigdist/_torch_io.py", "sigdist/montecarlo/_torch.py")


class _SkipTorchOnlyModules:
    """Ignore the torch-only modules' doctests when torch is absent.

    Registered as a plain plugin (not through ``collect_ignore``), because this conftest lives in
    ``tests/`` and a conftest's ``collect_ignore`` only reaches its own folder, while the doctests
    are collected from ``sigdist/`` (``testpaths``).
    """

    ignored = {(ROOT / path).resolve() for path in TORCH_ONLY_MODULES}

    def pytest_ignore_collect(self, collection_path, config):
        if collection_path.resolve() in self.ignored:
            return True
        return None


def pytest_configure(config):
    if not HAS_TORCH:
        config.pluginmanager.register(_SkipTorchOnlyModules(), "sigdist-skip-torch-only-modules")


# test files that need torch skip themselves (pytest.importorskip); none is listed here
collect_ignore = []


@pytest.fixture(scope="session")
def reference_cdf():
    """Independent reference CDFs (Gil-Pelaez / nested quadrature in mpmath): validation/reference_cdf.py."""
    return json.loads((DATA / "reference_cdf.json").read_text())
