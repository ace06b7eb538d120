"""The one shape of results that are not laws: short repr, labelled arrays."""

from dataclasses import dataclass

import numpy as np

from sigdist import Result


@dataclass(frozen=True, repr=False)
class _Chain(Result):
    _dims = {"r_by_network": ("network",), "trace": ("step", "network")}
    _coords = {"step": "steps"}

    width: int
    r_mean: float
    r_mean_se: float
    r_by_network: np.ndarray
    trace: np.ndarray
    steps: np.ndarray
    weight_law: str


def _result():
    return _Chain(8, 2.5, 0.01, np.arange(4.0), np.ones((500, 4)), np.arange(500), "gaussian")


def test_the_repr_is_a_few_lines_whatever_the_arrays_hold():
    text = repr(_result())
    assert text.count("\n") <= 10 and "shape=(500, 4)" in text and len(text) < 600


def test_to_xarray_labels_the_arrays_with_their_dims():
    ds = _result().to_xarray()
    assert ds["trace"].dims == ("step", "network") and ds["r_by_network"].dims == ("network",)
    assert float(ds["r_mean"]) == 2.5 and float(ds["r_mean_se"]) == 0.01
    assert ds.attrs["weight_law"] == "gaussian"
    assert int(ds["step"][-1]) == 499
