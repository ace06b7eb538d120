"""Two inputs through any activation: pair moments by quadrature against independent routes, the c-map,
the mean cosine's 1/N correction, the mean-field fixed points (Poole et al. 2016), and exact squared-norm
moments of non-homogeneous layers."""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

import sigdist
from sigdist import Layer, Network
from sigdist.cosine import cosine_law, mean_cosine, mean_field_cosines
from sigdist.pair_moments import activation_moments, layer_covariance, unit_moments
from sigdist.pairs import pair_samples
from sigdist.relu_pair import c_map, correlation_map, mean_scalar_product, relu_moment

SMOOTH = {"tanh": np.tanh, "erf": special.erf, "gelu": lambda h: h * special.ndtr(h)}
ORDERS = [(1, 0), (0, 1), (2, 0), (1, 1), (2, 2), (3, 1), (1, 3), (4, 0)]


def relu_callable(h):
    return np.maximum(h, 0.0)  # relu as a user's callable: the generic quadrature, not the closed forms


def hermite_moments(phi, orders, v11, v22, v12, n=300):
    """The mixed moments by a tensor Gauss-Hermite rule in Cholesky coordinates: a second, independent rule
    (spectrally convergent for entire phi such as erf and gelu; 120 nodes leave 4e-9, 300 reach roundoff)."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    z1, z2 = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w)
    s1 = math.sqrt(v11)
    h1 = s1 * z1
    h2 = (v12 / s1) * z1 + math.sqrt(v22 - v12 * v12 / v11) * z2
    x1, x2 = phi(h1), phi(h2)
    return np.array([np.sum(W * x1**p * x2**q) for p, q in orders])


# -- one unit: the quadrature against second routes --------------------------------------------------

@pytest.mark.parametrize("V", [(1.3, 0.8, 0.6), (1.0, 1.0, -0.99), (2.0, 1.0, 1.4142), (0.5, 3.0, 0.0),
                               (1.0, 1.0, 0.999999)])
def test_generic_quadrature_reproduces_relus_closed_forms(V):
    v11, v22, v12 = V
    got = activation_moments(relu_callable, [(1, 1), (2, 2), (3, 1), (1, 3), (4, 0), (2, 0)], *V)
    want = [relu_moment(1, 1, *V), relu_moment(2, 2, *V), relu_moment(3, 1, *V), relu_moment(3, 1, v22, v11, v12),
            1.5 * v11**2, v11 / 2]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    rho = v12 / math.sqrt(v11 * v22)
    assert c_map(rho, v11=v11, v22=v22, activation=relu_callable) == pytest.approx(float(c_map(rho)), abs=1e-13)
    assert correlation_map(rho, v11=v11, v22=v22, activation=relu_callable) == pytest.approx(
        float(correlation_map(rho)), abs=1e-12)
    layer, generic = Layer(7, 1.0), Layer(7, 1.0, activation=relu_callable)  # sigma_w2 = 1, sigma_b2 = 0: V = y
    assert mean_scalar_product(generic, *V) == pytest.approx(mean_scalar_product(layer, *V), rel=1e-12)
    mean, cov = unit_moments(relu_callable, *V)
    assert mean == pytest.approx([v11 / 2, v22 / 2, relu_moment(1, 1, *V)], rel=1e-12)
    assert cov[2, 2] == pytest.approx(relu_moment(2, 2, *V) - relu_moment(1, 1, *V) ** 2, rel=1e-11)


@pytest.mark.parametrize("rho", [-1.0, -0.6, 0.0, 0.45, 0.999, 1.0])
def test_c_map_of_linear_and_abs_are_their_closed_forms(rho):
    assert c_map(rho, v11=2.0, v22=0.3, activation="linear") == pytest.approx(rho, abs=1e-14)
    # E|h1||h2| = (2 / pi) sqrt(v11 v22) (sqrt(1 - rho^2) + rho arcsin(rho)), E h^2 = v
    want = 2 / math.pi * (math.sqrt(1 - rho * rho) + rho * math.asin(rho))
    assert c_map(rho, v11=2.0, v22=0.3, activation="abs") == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize("name", ["erf", "gelu"])
@pytest.mark.parametrize("V", [(1.0, 1.0, 0.5), (2.0, 0.7, -0.9 * math.sqrt(1.4)), (3.0, 1.0, 1.5)])
def test_quadrature_matches_gauss_hermite_for_entire_activations(name, V):
    got = activation_moments(name, ORDERS, *V)
    ref = hermite_moments(SMOOTH[name], ORDERS, *V)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_quadrature_matches_nested_adaptive_quadrature_for_tanh_including_a_steep_large_variance():
    # scipy's adaptive Gauss-Kronrod, nested: outer over g1 (break at 0), inner over g2 (break where h2 = 0)
    def ref(p, q, v11, v22, v12):
        s1, s2 = math.sqrt(v11), math.sqrt(v22)
        rho = v12 / (s1 * s2)
        r = math.sqrt(1 - rho * rho)
        pdf = lambda g: math.exp(-0.5 * g * g) / math.sqrt(2 * math.pi)  # noqa: E731

        def inner(g1):
            c = -rho * g1 / r
            f = lambda g2: math.tanh(s2 * (rho * g1 + r * g2)) ** q * pdf(g2)  # noqa: E731
            return pdf(g1) * math.tanh(s1 * g1) ** p * sum(
                integrate.quad(f, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                for lo, hi in ((-13.0, min(max(c, -13.0), 13.0)), (min(max(c, -13.0), 13.0), 13.0)) if hi > lo)

        return sum(integrate.quad(inner, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                   for lo, hi in ((-13.0, 0.0), (0.0, 13.0)))

    for V in [(2.0, 0.7, -1.0), (400.0, 300.0, 200.0)]:
        got = activation_moments("tanh", [(1, 1), (3, 1)], *V)
        np.testing.assert_allclose(got, [ref(1, 1, *V), ref(3, 1, *V)], rtol=1e-11)


def test_steep_activations_at_huge_variance_reach_the_sign_limit():
    # tanh(h) -> sign(h) as the variance grows: E[sign h1 sign h2] = (2 / pi) arcsin(rho) (Sheppard), and
    # 1 - E tanh(h)^2 = E sech(h)^2 = sqrt(2 / pi) / sqrt(v) (1 + O(1/v)); a rule whose panels stopped at
    # 12 * 2^-14 misses both by 1e-4 / sqrt(v) at v = 1e12. E tanh(h)^2 is a sum of terms near 1: its roundoff,
    # 64 ulps, is 1e-6 of 1 - E tanh^2 at v = 1e16 (1.3e-6 there with numpy 2.4.6, scipy 1.17.1)
    rho = 0.3 / math.sqrt(0.5)
    for v in (1e8, 1e12, 1e16):
        got = activation_moments("tanh", [(1, 1), (2, 0)], v, 0.5 * v, 0.3 * v)
        assert abs(got[0] - 2 / math.pi * math.asin(rho)) * math.sqrt(v) < 1e-4
        roundoff = 64 * np.finfo(np.float64).eps * math.sqrt(v)
        assert (1 - got[1]) * math.sqrt(v) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-6, abs=roundoff)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_correlation_and_c_map_match_monte_carlo(name):
    v11, v22, rho = 1.7, 0.6, 0.35
    v12 = rho * math.sqrt(v11 * v22)
    rng = np.random.default_rng(11)
    h = rng.multivariate_normal([0, 0], [[v11, v12], [v12, v22]], size=400_000)
    x1, x2 = SMOOTH[name](h[:, 0]), SMOOTH[name](h[:, 1])
    # Fisher z of the sample correlation of phi(h1), phi(h2)
    r = np.corrcoef(x1, x2)[0, 1]
    cor = correlation_map(rho, v11=v11, v22=v22, activation=name)
    assert abs(np.arctanh(r) - np.arctanh(cor)) * math.sqrt(x1.size - 3) < 4
    # the c-map is E[x1 x2] / sqrt(E x1^2 E x2^2): z-score of the numerator at the exact denominator
    e11, e22, e12 = activation_moments(name, [(2, 0), (0, 2), (1, 1)], v11, v22, v12)
    assert c_map(rho, v11=v11, v22=v22, activation=name) == pytest.approx(e12 / math.sqrt(e11 * e22), rel=1e-14)
    prod = x1 * x2
    assert abs(prod.mean() - e12) / (prod.std(ddof=1) / math.sqrt(prod.size)) < 4
    # arrays of rho, and the endpoints
    out = c_map(np.array([-1.0, 0.0, 1.0]), activation=name)
    assert out.shape == (3,) and out[2] == pytest.approx(1.0, abs=1e-14)
    assert correlation_map(1.0, v11=2.0, v22=2.0, activation=name) == pytest.approx(1.0, abs=1e-13)
    if name != "gelu":  # odd activations: -1 at rho = -1 and 0 at rho = 0
        assert out[0] == pytest.approx(-1.0, abs=1e-14) and out[1] == pytest.approx(0.0, abs=1e-15)


# -- one layer: the mean cosine and its 1/N correction --------------------------------------------------

@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_mean_cosine_first_order_leaves_an_n_to_the_minus_two_residual(name):
    y1, y2, y12 = 1.0, 1.5, 0.5
    d_inf, d_first, se = {}, {}, {}
    for width in (4, 8, 16, 32, 64):
        layer = Layer(width, 1.2, 0.1, activation=name)
        m = mean_cosine(layer, y1, y2, y12)
        (a, b, c), _ = unit_moments(name, *layer_covariance(layer, y1, y2, y12))
        assert m.infinite_width == pytest.approx(c / math.sqrt(a * b), rel=1e-14)
        s = pair_samples(layer, y1, y2, y12, n_networks=200_000, seed=width)
        A, B, C = s.y1[:, 0] / width, s.y2[:, 0] / width, s.y12[:, 0] / width
        # control variate: the delta method's linear term has mean 0 exactly and takes the O(1/sqrt N) noise
        g = np.array([-0.5 * c / a, -0.5 * c / b, 1.0]) / math.sqrt(a * b)
        x = C / np.sqrt(A * B) - (g[0] * (A - a) + g[1] * (B - b) + g[2] * (C - c))
        est, se[width] = x.mean(), x.std(ddof=1) / math.sqrt(x.size)
        d_inf[width], d_first[width] = est - m.infinite_width, est - m.first_order
        assert abs(d_inf[width]) > 10 * se[width]  # the c-map misses the finite-width mean at every width
    for width in (16, 32):  # the c-map's error is O(1/N): halves as N doubles
        assert 1.6 < d_inf[width] / d_inf[2 * width] < 2.5
    # the corrected mean's residual is O(1/N^2): from N = 4 to 16 it falls by more than 8 (1/N would give 4)
    assert abs(d_first[4]) > 8 * (abs(d_first[16]) + 3 * se[16])
    for width in (16, 32, 64):
        assert abs(d_first[width]) < abs(d_inf[width]) / 5


def test_cosine_law_of_a_smooth_layer_centres_on_the_corrected_mean():
    layer = Layer(30, 1.0, 0.05, activation="gelu")
    law = cosine_law(layer, 1.0, 2.0, 0.8, n_networks=40_000, seed=2)
    m = mean_cosine(layer, 1.0, 2.0, 0.8)
    assert law.approx_mean == m.first_order and law.p_undefined == 0.0
    remainder = 8 * abs(m.first_order - m.infinite_width) / layer.width  # O(1/N^2), as in test_cosine
    assert abs(law.mean() - law.approx_mean) < 4 * law.mean_se() + remainder


# -- many layers: the pair chain and the mean-field recursion ----------------------------------------

def _tanh_q_star(sigma_w2, sigma_b2):
    f = lambda q: sigma_w2 * integrate.quad(  # noqa: E731
        lambda z: np.tanh(math.sqrt(q) * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -30, 30,
        points=[0.0], epsabs=1e-15, epsrel=1e-13)[0] + sigma_b2 - q
    return optimize.brentq(f, 1e-8, 100.0, xtol=1e-15)


def test_mean_field_cosines_reach_pooles_fixed_points_in_both_phases():
    width, sigma_b2 = 50, 0.05
    x, w = np.polynomial.hermite_e.hermegauss(150)
    w = w / w.sum()
    for sigma_w2 in (0.8, 4.0):  # Poole's sigma_w^2 = N * Layer.sigma_w2
        q = _tanh_q_star(sigma_w2, sigma_b2)
        chi1 = sigma_w2 * np.sum(w / np.cosh(math.sqrt(q) * x) ** 4)  # Poole et al. eq. 7
        depth = 60 if sigma_w2 < 1 else 100  # ordered: 1 - cos falls like chi1^l; chaotic: c* is a slower attractor
        net = Network.constant(width, depth, sigma_w2 / width, sigma_b2, activation="tanh")
        y = 1.3 * width
        cos = mean_field_cosines(net, y, y, 0.3 * y)
        # layer 1 is the c-map at the layer's variances
        v11, v22, v12 = layer_covariance(net[0], y, y, 0.3 * y)
        assert cos[0] == pytest.approx(float(c_map(v12 / v11, v11=v11, v22=v22, activation="tanh")), rel=1e-13)
        if sigma_w2 == 0.8:
            assert chi1 < 1  # ordered: every pair of inputs becomes parallel
            assert cos[-1] == pytest.approx(1.0, abs=1e-9)
            continue
        assert chi1 > 1  # chaotic: c* < 1 solves c = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q* (eq. 5)
        z1, z2 = np.meshgrid(x, x, indexing="ij")
        W = np.outer(w, w)

        def excess(c):
            u1, u2 = math.sqrt(q) * z1, math.sqrt(q) * (c * z1 + math.sqrt(1 - c * c) * z2)
            return (sigma_w2 * np.sum(W * np.tanh(u1) * np.tanh(u2)) + sigma_b2) / q - c

        c_star = optimize.brentq(excess, 0.0, 0.999, xtol=1e-15)
        # the cosine of the signals x is (c* q* - sigma_b2) / (q* - sigma_b2)
        assert cos[-1] == pytest.approx((c_star * q - sigma_b2) / (q - sigma_b2), abs=1e-6)


def test_the_finite_width_pair_chain_approaches_the_mean_field_cosines_as_one_over_width():
    errs, ses = {}, {}
    for width in (8, 32):
        net = Network.constant(width, 3, 1.5 / width, 0.05, activation="tanh")
        y = float(width)
        field = mean_field_cosines(net, y, y, 0.4 * y)
        s = pair_samples(net, y, y, 0.4 * y, n_networks=400_000, seed=width)
        errs[width], ses[width] = np.abs(s.cosine_mean - field), s.cosine_mean_se
    assert np.all(errs[8] > 10 * ses[8])  # the finite width shows at every layer
    # O(1/N): four times the width, a quarter of the error, up to an O(1/N^2) share and 4 standard errors
    noise = 4 * np.sqrt(ses[8] ** 2 + 16 * ses[32] ** 2)
    assert np.all(np.abs(4 * errs[32] - errs[8]) < 0.35 * errs[8] + noise)


def test_pair_samples_apply_the_layers_activation():
    layer = Layer(6, 0.9, 0.2, activation="tanh")
    y1, y2, y12 = 2.0, 1.0, -0.7
    s = pair_samples(layer, y1, y2, y12, n_networks=50_000, seed=1)
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    # numpy's own multivariate normal, then tanh: the same law (KS) as the reduced sampler
    h = np.random.default_rng(2).multivariate_normal([0, 0], [[v11, v12], [v12, v22]], size=(50_000, 6))
    ref = (np.tanh(h[..., 0]) * np.tanh(h[..., 1])).sum(1)
    assert stats.ks_2samp(s.y12[:, 0], ref).pvalue > 1e-3
    assert abs(s.y12_mean[0] - mean_scalar_product(layer, y1, y2, y12)) < 4 * s.y12_mean_se[0]
    # a callable with phi(0) != 0 turns a zero input into a signal: it is no longer refused
    sig = Layer(4, 1.0, activation=lambda h: special.expit(h))
    assert np.all(pair_samples(sig, 0.0, 1.0, 0.0, n_networks=10, seed=0).y1 > 0)


# -- squared-norm moments of non-homogeneous layers ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_squared_norm_moments_of_a_smooth_layer_match_mpmath(name):
    mphi = {"tanh": mpmath.tanh, "erf": mpmath.erf, "gelu": lambda h: h * mpmath.ncdf(h)}[name]
    layer, y0 = Layer(7, 0.3, 0.05, activation=name), 2.0
    s = mpmath.mpf(0.3) * 2 + mpmath.mpf(0.05)
    with mpmath.workdps(25):
        e = [mpmath.quad(lambda g: mphi(mpmath.sqrt(s) * g) ** k * mpmath.npdf(g), [-mpmath.inf, 0, mpmath.inf])
             for k in (2, 4)]
    m = sigdist.squared_norm_moments(layer, y0)
    assert m.first_moment[0] == pytest.approx(float(7 * e[0]), rel=1e-12)
    assert m.second_moment[0] == pytest.approx(float(7 * e[1] + 42 * e[0] ** 2), rel=1e-12)


def test_squared_norm_moments_continue_exactly_through_homogeneous_layers_after_a_smooth_one():
    net = Network([Layer(7, 1.3 / 5, 0.05, activation="gelu"), Layer(9, 2 / 7, 0.1), Layer(5, 0.3, 0.0, "abs")],
                  input_width=5)
    m = sigdist.squared_norm_moments(net, 2.0)
    rng = np.random.default_rng(3)
    n = 400_000
    z = 2.0
    for l, layer in enumerate(net):
        g = rng.standard_normal((n, layer.width)) * np.sqrt(layer.variance(z))[..., None]
        z = (layer.activation(g) ** 2).sum(1)
        for k, exact in ((1, m.first_moment[l]), (2, m.second_moment[l])):
            assert abs((z**k).mean() - exact) / ((z**k).std(ddof=1) / math.sqrt(n)) < 4, (l, k)


def test_squared_norm_moments_of_a_smooth_layer_with_a_random_input_average_over_its_input_law():
    # layer 2 sees the law of layer 1: E z_2 = E_y[N E tanh(sqrt(s(y)) g)^2], here against Monte Carlo
    net = Network.constant(10, 2, 0.15, 0.05, activation="tanh")
    m = sigdist.squared_norm_moments(net, 1.0)
    rng = np.random.default_rng(7)
    y = np.ones(400_000)
    for layer in net:
        s = layer.sigma_w2 * y + layer.sigma_b2
        y = (np.tanh(np.sqrt(s)[:, None] * rng.standard_normal((y.size, 10))) ** 2).sum(axis=1)
    for value, sample in ((m.first_moment[-1], y), (m.second_moment[-1], y * y)):
        assert abs(value - sample.mean()) < 4.5 * sample.std() / math.sqrt(sample.size)
    # a random input to a smooth layer 1 is known by its moments only: its law is needed, and refused by name
    with pytest.raises(ValueError, match="y0_sq"):
        sigdist.squared_norm_moments(Layer(10, 0.15, activation="erf"), 1.0, y0_sq=2.0)


def test_scalar_product_law_still_refuses_a_non_relu_layer():
    with pytest.raises(ValueError, match="relu"):
        sigdist.scalar_product_law(Layer(5, 0.4, activation="tanh"), 1.0, 1.0, 0.0)


# -- bad input ---------------------------------------------------------------------------------------

def broken(h):
    return np.where(np.abs(h) > 1.0, np.nan, h)


@pytest.mark.parametrize("call", [
    lambda: activation_moments(broken, [(1, 1)], 1.0, 1.0, 0.5),
    lambda: c_map(0.5, activation=broken),
    lambda: correlation_map(0.5, activation=broken),
    lambda: mean_cosine(Layer(5, 1.0, activation=broken), 1.0, 1.0, 0.5),
    lambda: mean_scalar_product(Layer(5, 1.0, activation=broken), 1.0, 1.0, 0.5),
    lambda: mean_field_cosines(Layer(5, 1.0, activation=broken), 1.0, 1.0, 0.5),
    lambda: pair_samples(Layer(5, 1.0, activation=broken), 1.0, 1.0, 0.5, n_networks=100, seed=0),
    lambda: sigdist.squared_norm_moments(Layer(5, 1.0, activation=broken), 1.0),
])
def test_an_activation_returning_nan_is_refused_by_name(call):
    with pytest.raises(ValueError, match="activation 'broken'"):
        call()


def test_non_finite_or_invalid_variances_are_refused_by_name():
    for kwargs, word in (({"v11": math.nan}, "v11"), ({"v22": math.inf}, "v22"), ({"v11": -1.0}, "v11")):
        with pytest.raises(ValueError, match=word):
            c_map(0.5, activation="tanh", **kwargs)
    with pytest.raises(ValueError, match="v12"):
        activation_moments("tanh", [(1, 1)], 1.0, 1.0, math.nan)
    with pytest.raises(ValueError, match="positive semi-definite"):
        activation_moments("tanh", [(1, 1)], 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="orders"):
        activation_moments("tanh", [(-1, 1)], 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="rho"):
        c_map(1.5, activation="tanh")
    with pytest.raises(ValueError, match="zero signal"):  # tanh(0) = 0: no bias, zero input, no cosine
        mean_cosine(Layer(5, 1.0, activation="tanh"), 0.0, 1.0, 0.0)
