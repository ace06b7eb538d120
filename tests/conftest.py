import json
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def reference_cdf():
    """Independent reference CDFs (Gil-Pelaez / nested quadrature in mpmath): validation/reference_cdf.py."""
    return json.loads((DATA / "reference_cdf.json").read_text())
