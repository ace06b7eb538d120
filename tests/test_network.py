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
        (dict(width=10, sigma_w2=1.0, activation="mish"), "activation"),
    ],
)
def test_bad_layer_parameters_name_the_parameter(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Layer(**kwargs)


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        Layer(10, 1.0, activation="mish")
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
    # "exact" is every log-grid route: tanh takes the Fourier route, as with "auto"
    law = sigdist.squared_norm_law(Network.constant(10, 1, 0.2, activation="tanh"), 1.0, method="exact")
    assert law.grid is not None and law.error_estimate < 1e-8


def test_input_law_must_live_on_the_half_line():
    from scipy import stats

    with pytest.raises(ValueError, match=r"\[0, inf\)"):
        sigdist.squared_norm_law(Network.constant(10, 1, 0.2), input_law=stats.norm(1, 1))


def test_leaky_relu_slope_is_checked():
    with pytest.raises(ValueError, match="negative_slope"):
        Layer(10, 1.0, activation="leaky_relu", negative_slope=float("nan"))
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
        (lambda: sigdist.grid.LogGrid(0.0, 1.0, 2.5), "size"),
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


def test_as_network_reads_every_spec_a_user_has():
    layer = Layer(30, 0.1)
    assert sigdist.as_network(layer).layers == (layer,)
    assert sigdist.as_network([layer, layer]).depth == 2
    net = sigdist.as_network([10, 30, 20])
    assert net.widths == [30, 20] and net.input_width == 10 and net[0].sigma_w2 == pytest.approx(0.2)
    assert sigdist.as_network(np.array([10, 30])).widths == [30]
    same = Network.constant(5, 2, 0.4)
    assert sigdist.as_network(same) is same


@pytest.mark.parametrize("obj, word", [
    ([], "at least one layer"),
    ([10], "length >= 2"),
    ("relu", "must be a sigdist.Network, a Layer"),
    ([Layer(3, 1.0), 4], "must be a sigdist.Network, a Layer"),
    (None, "must be a sigdist.Network, a Layer"),
])
def test_as_network_refuses_what_is_not_a_network_by_name(obj, word):
    with pytest.raises(ValueError, match=word):
        sigdist.as_network(obj)


def test_as_network_refuses_a_residual_network_where_the_analysis_has_no_residual_form():
    res = sigdist.ResidualNetwork.uniform(6, [4], [0.5])
    with pytest.raises(ValueError, match="plain Network"):
        sigdist.as_network(res)
    assert sigdist.as_network(res, residual=True) is res


def test_a_skip_connection_leaves_the_exact_setting_and_keeps_the_width():
    layer = Layer(8, 1.0, activation="linear", batch_norm=True, gamma=0.5)
    assert layer.residual and not layer.is_gaussian_iid
    assert not Layer(8, 1.0).residual and Layer(8, 1.0).is_gaussian_iid
    with pytest.raises(ValueError, match="gamma must be a number > 0"):
        Layer(8, 1.0, gamma=0.0)
    with pytest.raises(ValueError, match="must keep its input width 6"):
        Network([Layer(8, 1.0, gamma=0.5)], input_width=6)
    chain = Network.bn_chain(8, 3, 0.5)
    assert chain.depth == 3 and all(l.batch_norm and l.gamma == 0.5 and l.activation.name == "linear" for l in chain)


def test_a_deep_network_has_a_one_line_repr():
    text = repr(Network.constant(20, 10_000, 0.1))
    assert "10000 x (20, 0.1, 0, relu)" in text and len(text) < 200


def test_layers_that_say_the_same_compare_equal():
    assert Layer(30, 0.1, activation="tanh") == Layer(30, 0.1, activation="tanh")
    assert Layer(30, 0.1, activation="leaky_relu", negative_slope=0.2) != Layer(30, 0.1, activation="leaky_relu")
