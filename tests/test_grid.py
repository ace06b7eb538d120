"""The log grid's density: its CDF at the nodes and halfway between them by FFT, against the direct sum."""

import math

import numpy as np
import pytest

from sigdist.grid import LogGrid, LogGridDensity


def _bimodal(grid):
    u = grid.points
    wide = np.exp(-0.5 * (u + 3.0) ** 2 / 4.0) / math.sqrt(2.0 * math.pi * 4.0)
    narrow = np.exp(-0.5 * (u - 5.0) ** 2 / 0.3) / math.sqrt(2.0 * math.pi * 0.3)
    return 0.7 * wide + 0.3 * narrow


@pytest.mark.parametrize("size", [101, 3001])
def test_the_cdf_between_and_at_the_nodes_by_fft_is_the_direct_sum(size):
    # the same trigonometric series summed point by point (cdf_u) and by one inverse FFT: they differ by
    # roundoff; a shift of the wrong sign or size would put them 1e-3 apart
    grid = LogGrid(-10.0, 20.0 / (size - 1), size)
    density = LogGridDensity(grid, _bimodal(grid))
    mid = grid.points[:-1] + 0.5 * grid.spacing
    assert np.max(np.abs(density.cdf_between_nodes() - density.cdf_u(mid))) <= 1e-13
    inner = grid.points[:-1]  # at the last node and past it, cdf_u reads the grid's mass
    assert np.max(np.abs(density.cdf_at_nodes()[:-1] - density.cdf_u(inner))) <= 1e-13
