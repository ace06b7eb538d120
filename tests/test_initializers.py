"""sigdist.initializers: the variance each named initialiser draws and the networks it builds (Hanin & Rolnick
2018, Fig. 1a). Exact routes: float64 rounding over a depth of 100 (rtol 1e-12)."""

import numpy as np
import pytest

from sigdist import as_network
from sigdist.initializers import KNOWN_INITIALIZERS, initializer_network, initializer_weight_variance
from sigdist.lengths import length_moments
from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR


def test_weight_variance_of_named_initializers():
    assert initializer_weight_variance("he_normal", 50) == pytest.approx(0.04, rel=1e-15)
    assert initializer_weight_variance("glorot_uniform", 30, 10) == pytest.approx(0.05, rel=1e-15)
    assert initializer_weight_variance("he_normal_truncated", 50) == pytest.approx(0.04 * 0.7737413035499232,
                                                                                   rel=1e-12)


def test_truncated_he_normal_vanishes_and_he_uniform_keeps_the_mean_length():
    r = length_moments(initializer_network("he_normal_truncated", [100] * 101), x0=np.ones(100))
    assert r.length_mean[-1] == pytest.approx(TRUNCATED_NORMAL_VARIANCE_FACTOR ** 100, rel=1e-12)  # 7e-12: FM1
    r = length_moments(initializer_network("he_uniform", [100] * 101), x0=np.ones(100))
    assert r.length_mean[-1] == pytest.approx(1.0, rel=1e-12)


def test_every_initializer_builds_a_network_whose_layers_draw_its_variance():
    for name in KNOWN_INITIALIZERS:
        net = initializer_network(name, [4, 6, 3])
        assert net.depth == 2 and net.input_width == 4
        for layer, (fan_in, fan_out) in zip(net, ((4, 6), (6, 3))):
            assert layer.weight_variance == pytest.approx(initializer_weight_variance(name, fan_in, fan_out),
                                                          rel=1e-15)


def test_he_normal_is_the_network_that_widths_mean():
    a, b = initializer_network("he_normal", [5, 7, 3]), as_network([5, 7, 3])
    def spec(net):
        return [(l.width, l.sigma_w2, l.sigma_b2, l.activation.name, l.weight_law.name) for l in net]
    assert spec(a) == spec(b) and a.input_width == b.input_width


@pytest.mark.parametrize("call, match", [
    (lambda: initializer_network("xavier", [10, 10]), "known: he_normal"),
    (lambda: initializer_weight_variance("kaiming", 10), "known:"),
    (lambda: initializer_weight_variance("glorot_normal", 10), "fan_out"),
    (lambda: initializer_weight_variance("he_normal", 0), r"fan_in must be an integer"),
    (lambda: initializer_network("he_normal", [10]), "depth >= 1"),
    (lambda: initializer_network("he_normal", 10), "widths must be a sequence"),
    (lambda: initializer_network("he_normal", [10, 0]), r"widths\[1\]"),
])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
