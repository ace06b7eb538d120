import json
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"
ROOT = pathlib.Path(__file__).resolve().parent.parent


# test files that need torch skip themselves (pytest.importorskip); none is listed here
collect_ignore = []


@pytest.fixture(scope="session")
def reference_cdf():
    """Independent reference CDFs (Gil-Pelaez / nested quadrature in mpmath): validation/reference_cdf.py."""
    return json.loads((DATA / "reference_cdf.json").read_text())
