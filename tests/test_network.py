import math

import numpy as np
import pytest

import sigdist
from sigdist import Layer, Network


def test_he_constructor_uses_fan_in():
    net = Network.he([784, 300, 100])
    assert net.depth == 2
    assert net.widths == [300, 100]
    assert net[0].sigma_w2 == pytest.approx(2 / 784, rel=1e-15)
    assert net[1].sigma_w2 == pytest.approx(2 / 300, rel=1e-15)
    assert net.input_width == 784


def test_constant_constructor():
    net = Network.constant(50, 4, 1.5 / 50, 0.1, activation="tanh")
    assert net.depth == 4 and all(l.width == 50 and l.sigma_b2 == 0.1 for l in net)
    assert net[0].activation.name == "tanh"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(width=0, sigma_w2=1.0), "width"),
        (dict(width=-3, sigma_w2=1.0), "width"),
        (dict(width=2.5, sigma_w2=1.0), "width"),
        (dict(width=10, sigma_w2=0.0), "sigma_w2"),
        (dict(width=10, sigma_w2=-1.0), "sigma_w2"),
        (dict(width=10, sigma_w2=math.inf), "sigma_w2"),
        (dict(width=10, sigma_w2=math.nan), "sigma_w2"),
        (dict(width=10, sigma_w2=1.0, sigma_b2=-0.1), "sigma_b2"),
        (dict(width=10, sigma_w2=1.0, sigma_b2=math.inf), "sigma_b2"),
        (dict(width=10, sigma_w2=1.0, activation="swish"), "activation"),
    ],
)
def test_bad_layer_parameters_name_the_parameter(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Layer(**kwargs)


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        Layer(10, 1.0, activation="swish")
    for name in sigdist.KNOWN_ACTIVATIONS:
        assert name in str(info.value)


def test_empty_network_and_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        Network([])
    with pytest.raises(ValueError, match="depth"):
        Network.constant(10, 0, 1.0)
    with pytest.raises(ValueError, match="widths"):
        Network.he([10])


@pytest.mark.parametrize("y0", [-1.0, math.inf, math.nan])
def test_bad_input_norm(y0):
    with pytest.raises(ValueError, match="y0"):
        sigdist.squared_norm_law(Network.constant(10, 1, 0.2), y0)


def test_bad_tol_and_method():
    net = Network.constant(10, 1, 0.2)
    with pytest.raises(ValueError, match="tol"):
        sigdist.squared_norm_law(net, 1.0, tol=0.0)
    with pytest.raises(ValueError, match="method"):
        sigdist.squared_norm_law(net, 1.0, method="magic")
    with pytest.raises(ValueError, match="exact"):
        sigdist.squared_norm_law(Network.constant(10, 1, 0.2, activation="tanh"), 1.0, method="exact")


def test_input_law_must_live_on_the_half_line():
    from scipy import stats

    with pytest.raises(ValueError, match=r"\[0, inf\)"):
        sigdist.squared_norm_law(Network.constant(10, 1, 0.2), input_law=stats.norm(1, 1))


def test_leaky_relu_slope_is_checked():
    with pytest.raises(ValueError, match="negative_slope"):
        Layer(10, 1.0, activation="leaky_relu", negative_slope=-0.1)
    act = Layer(10, 1.0, activation="leaky_relu", negative_slope=0.2).activation
    np.testing.assert_allclose(act(np.array([-1.0, 2.0])), [-0.2, 2.0])


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: Layer(3, "1"), "sigma_w2"),
        (lambda: Layer(True, 1.0), "width"),
        (lambda: Layer(3, True), "sigma_w2"),
        (lambda: Layer(10**9, 1.0), "width"),
        (lambda: Layer(3, 1.0, activation="leaky_relu", negative_slope="x"), "negative_slope"),
        (lambda: Network(None), "layers"),
        (lambda: sigdist.squared_norm_law(Network.constant(5, 1, 1.0), "1"), "y0"),
        (lambda: sigdist.squared_norm_law(Network.constant(5, 1, 1.0), tol=1e-300), "tol"),
        (lambda: sigdist.squared_norm_law(Network.constant(5, 1, 1.0), method="lattice", lattice_size=0),
         "lattice_size"),
        (lambda: sigdist.TransitionOperator(Layer(5, 1.0), grid=5), "grid"),
        (lambda: sigdist.TransitionOperator(Layer(5, 1.0)).apply(1.0, tail=0), "tail"),
        (lambda: sigdist.TransitionOperator(Layer(5, 1.0)).apply(1.0, tail=2), "tail"),
        (lambda: sigdist.TransitionOperator(Layer(5, 1.0)).apply("a"), "law"),
        (lambda: sigdist.LogGrid(0.0, 1.0, 2.5), "size"),
    ],
)
def test_bad_input_names_the_parameter(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_input_law_must_be_frozen():
    from scipy import stats

    with pytest.raises(ValueError, match="frozen"):
        sigdist.squared_norm_law(Network.constant(5, 1, 1.0), input_law=stats.expon)


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None])
def test_layer_batch_norm_must_be_a_real_bool(flag):
    # Layer(batch_norm='no') used to become batch_norm=True through bool('no')
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        Layer(10, 0.2, batch_norm=flag)
    assert Layer(10, 0.2, batch_norm=np.bool_(True)).batch_norm is True
