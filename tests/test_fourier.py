"""The Fourier route (:mod:`sigdist.fourier`) for every activation without a chi-square law (issue 14).

Each law is checked against a second route that shares nothing with it:

* relu written as a callable goes through the Fourier route; the exact relu route (closed forms) is
  the reference, and its atom is :math:`2^{-N}`; a shifted relu's atom is :math:`\\Phi(1/\\sqrt{s})^N`;
* one tanh unit: :math:`P(\\tanh(\\sqrt{s} g)^2 \\le x) = 2\\Phi(\\operatorname{artanh}(\\sqrt{x})/\\sqrt{s}) - 1`;
* numpy Monte Carlo of Prop. 1 (``z = sum_i phi(h_i)^2``, ``h_i ~ N(0, s)``, ``s = sigma_w2 y + sigma_b2``)
  at fixed seeds, CDF z-scores against the binomial standard error;
* the lattice route (``method="lattice"``) within its own error estimate.

Tolerances come from the methods: error estimates, or 4.5 standard errors.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import special

from sigdist import (Activation, Layer, Network, SigdistWarning, TransitionOperator, layer_laws, squared_norm_law,
                     stationary_law)
from sigdist.fourier import FourierKernel, group_series
from sigdist.series import KernelSeries
from sigdist.stationary import augmented_matrix, default_stationary_grid

Z_MAX = 4.5  # Monte Carlo z-score bound (two-sided p ~ 7e-6 a check)
QUANTILES = np.array([0.05, 0.25, 0.5, 0.75, 0.95])


def _relu(h):
    return np.maximum(h, 0.0)


# relu as an Activation without its chi-square structure: the Fourier route, not the closed forms
RELU_CALLABLE = Activation("relu_callable", _relu)


def _laws_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        return squared_norm_law(*args, **kwargs)


def _mc_squared_norms(phi, layers, y0, n, seed, chunk=50_000):
    """``|x^(L)|^2`` sampled by Prop. 1, layer after layer: ``z = sum_i phi(h_i)^2``, ``h_i ~ N(0, s)``."""
    rng = np.random.default_rng(seed)
    out = np.empty(n)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        y = np.full(m, float(y0))
        for width, sigma_w2, sigma_b2 in layers:
            s = sigma_w2 * y + sigma_b2
            h = np.sqrt(s)[:, None] * rng.standard_normal((m, width))
            y = np.sum(phi(h) ** 2, axis=1)
        out[start:start + m] = y
    return out


def _cdf_z_scores(law, sample):
    x = law.ppf(QUANTILES)
    empirical = np.array([np.mean(sample <= v) for v in x])
    exact = law.cdf(x)
    se = np.sqrt(exact * (1.0 - exact) / sample.size)
    return (empirical - exact) / se


# -- relu as a callable against the exact relu route ---------------------------------------------

@pytest.mark.parametrize("sigma_b2", [0.0, 0.1])
def test_relu_callable_matches_the_exact_relu_route_within_the_error_estimate(sigma_b2):
    width = 30
    callable_law = squared_norm_law(Layer(width, 2.0 / width, sigma_b2, RELU_CALLABLE), 1.0)
    exact = squared_norm_law(Layer(width, 2.0 / width, sigma_b2, "relu"), 1.0)
    # the bulk and the left tail, where one active unit's z^(-1/2) singularity sits
    mean = exact.mean()
    x = np.concatenate([exact.ppf(np.linspace(0.001, 0.999, 41)), mean * np.geomspace(1e-5, 1e-2, 7)])
    error = np.max(np.abs(callable_law.cdf(x) - exact.cdf(x)))
    assert error <= callable_law.error_estimate + exact.error_estimate
    assert callable_law.error_estimate <= 1e-8


def test_relu_callable_error_estimate_bounds_its_error_at_a_loose_tol():
    width = 30
    callable_law = squared_norm_law(Layer(width, 2.0 / width, 0.0, RELU_CALLABLE), 1.0, tol=1e-6)
    exact = squared_norm_law(Layer(width, 2.0 / width, 0.0, "relu"), 1.0)
    x = exact.ppf(np.linspace(0.001, 0.999, 41))
    assert np.max(np.abs(callable_law.cdf(x) - exact.cdf(x))) <= callable_law.error_estimate + exact.error_estimate


@pytest.mark.parametrize("width", [10, 30])
def test_relu_callable_keeps_the_atom_two_to_the_minus_width(width):
    # phi vanishes on {h <= 0}, of Gaussian mass 1/2 for every variance: P(z = 0 | y) = 2^-N exactly
    op = TransitionOperator(Layer(width, 2.0 / width, 0.0, RELU_CALLABLE))
    atoms = op.atom_given(np.array([0.5, 1.0, 7.0]))
    assert np.allclose(atoms, 2.0 ** -width, rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("width, sigma_b2", [(30, 0.0), (10, 0.3)])
def test_shifted_relu_atom_is_the_gaussian_mass_below_the_shift_to_the_width(width, sigma_b2):
    # relu(h - 1) vanishes for h <= 1: P(X = 0) = Phi(1 / sqrt(s)), P(z = 0 | y) = Phi(1 / sqrt(s))^N
    shifted = Activation("shifted_relu", lambda h: np.maximum(np.asarray(h) - 1.0, 0.0))
    layer = Layer(width, 1.5 / width, sigma_b2, shifted)
    y = np.array([0.3, 1.0, 2.0])
    atoms = TransitionOperator(layer).atom_given(y)
    expected = special.ndtr(1.0 / np.sqrt(layer.variance(y))) ** width
    assert np.allclose(atoms, expected, rtol=1e-13, atol=0.0)


# -- width 1: exact by inversion -----------------------------------------------------------------

@pytest.mark.parametrize("sigma_w2, sigma_b2", [(0.7, 0.0), (2.0, 0.3)])
def test_one_tanh_unit_has_the_closed_form_law(sigma_w2, sigma_b2):
    law = _laws_quiet(Layer(1, sigma_w2, sigma_b2, "tanh"), 1.0)
    s = sigma_w2 + sigma_b2
    x = np.concatenate([np.geomspace(1e-8, 1e-2, 7), np.linspace(0.05, 0.95, 10), [0.999, 0.999999]])
    closed = 2.0 * special.ndtr(np.arctanh(np.sqrt(x)) / math.sqrt(s)) - 1.0
    assert np.max(np.abs(law.cdf(x) - closed)) <= max(law.error_estimate, 1e-14)
    assert law.atom == 0.0


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(0.7, 0.0), (2.0, 0.3)])
def test_one_tanh_unit_meets_the_default_tol(sigma_w2, sigma_b2):
    # X piled up at x -> 1 (the density of log X is a Gaussian in log(1/(1-x))) is more than the log grid
    # resolves at s = 2.3; the law answers its cdf, sf and quantiles from the exact inversion instead
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(1, sigma_w2, sigma_b2, "tanh"), 1.0)
    assert law.error_estimate <= 1e-8
    s = sigma_w2 + sigma_b2
    x = np.array([1e-6, 0.01, 0.3, 0.9, 0.999, 0.999999, 1 - 1e-9])
    closed = 2.0 * special.ndtr(np.arctanh(np.sqrt(x)) / math.sqrt(s)) - 1.0
    assert np.max(np.abs(law.cdf(x) - closed)) <= 1e-8
    # relative out to sf ~ 1e-19 (closer to 1, phi^2 itself has fewer digits of 1 - x than that)
    closed_sf = 2.0 * special.ndtr(-np.arctanh(np.sqrt(x[:-1])) / math.sqrt(s))
    assert np.max(np.abs(law.sf(x[:-1]) / closed_sf - 1.0)) <= 1e-8
    q = np.array([0.01, 0.5, 0.99, 0.999])
    exact_q = np.tanh(math.sqrt(s) * special.ndtri(0.5 * (1.0 + q))) ** 2
    assert np.allclose(law.ppf(q), exact_q, rtol=1e-7, atol=0.0)


# -- smooth activations against Monte Carlo ------------------------------------------------------

MC_CASES = [  # activation, width, depth, sigma_w2 * width, sigma_b2
    ("tanh", 20, 3, 1.5, 0.05),
    ("erf", 10, 2, 1.0, 0.0),
    ("gelu", 20, 2, 2.0, 0.1),
    ("silu", 15, 1, 2.0, 0.0),
    ("sigmoid", 10, 2, 1.0, 0.05),
    ("softplus", 20, 3, 1.0, 0.0),
    ("sin", 30, 1, 1.0, 0.1),
]


@pytest.mark.parametrize("name, width, depth, gain, sigma_b2", MC_CASES)
def test_smooth_activation_law_matches_monte_carlo(name, width, depth, gain, sigma_b2):
    layer = Layer(width, gain / width, sigma_b2, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)  # the default tol is met for these widths
        law = squared_norm_law(Network([layer] * depth), 1.0)
    assert law.error_estimate <= 1e-8
    sample = _mc_squared_norms(layer.activation.phi, [(width, layer.sigma_w2, sigma_b2)] * depth, 1.0,
                               1_000_000, seed=20260 + len(name) * 7 + depth)
    z = _cdf_z_scores(law, sample)
    assert np.all(np.abs(z) < Z_MAX), z
    # the mean too (its standard error from the sample)
    assert abs(sample.mean() - law.mean()) < Z_MAX * sample.std() / math.sqrt(sample.size)


@pytest.mark.parametrize("name, width, sigma_b2", [("tanh", 20, 0.05), ("erf", 10, 0.0), ("gelu", 20, 0.1),
                                                   ("silu", 15, 0.0), ("sigmoid", 10, 0.05),
                                                   ("softplus", 20, 0.0), ("sin", 30, 0.1)])
def test_smooth_activation_law_matches_the_lattice_route_within_its_error_estimate(name, width, sigma_b2):
    layer = Layer(width, 1.5 / width, sigma_b2, name)
    law = squared_norm_law(layer, 1.0)
    lattice = _laws_quiet(layer, 1.0, method="lattice", lattice_size=16384)
    x = law.ppf(np.linspace(0.005, 0.995, 25))
    assert np.max(np.abs(law.cdf(x) - lattice.cdf(x))) <= lattice.error_estimate + law.error_estimate
    assert law.error_estimate <= 1e-8


# -- error control -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_error_estimate_bounds_the_difference_to_a_tighter_run(name):
    layer = Layer(10, 0.15, 0.05, name)
    law = squared_norm_law(layer, 1.0)
    tight = squared_norm_law(layer, 1.0, tol=1e-12)
    x = tight.ppf(np.linspace(0.001, 0.999, 31))
    assert np.max(np.abs(law.cdf(x) - tight.cdf(x))) <= law.error_estimate + tight.error_estimate
    assert tight.error_estimate < law.error_estimate <= 1e-8


@pytest.mark.parametrize("sigma_b2", [0.0, 0.05])
def test_tanh_width_30_meets_the_default_tol_without_warning_for_three_layers(sigma_b2):
    net = Network([Layer(30, 1.5 / 30, sigma_b2, "tanh")] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        laws = layer_laws(net, 1.0)
    assert len(laws) == 3
    assert all(law.error_estimate <= 1e-8 for law in laws)


def test_a_narrow_erf_layer_meets_the_default_tol_between_its_grid_nodes():
    # erf at width 5, s = 1.5: saturation makes z's density singular at z = 1..5, which the log grid
    # interpolates to 3e-7 at 14k points (2e-9 at 229k); the law reads its CDF from the series, which converge
    # at the rate their error estimate follows: a 100x tighter tol moves the CDF by less than the default law's
    # estimate
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(5, 0.3, 0.0, "erf"), 5.0)
        fine = squared_norm_law(Layer(5, 0.3, 0.0, "erf"), 5.0, tol=1e-10)
    assert law.error_estimate <= 1e-8
    x = np.linspace(0.05, 4.99, 200)
    assert np.max(np.abs(law.cdf(x) - fine.cdf(x))) <= law.error_estimate + fine.error_estimate
    assert np.max(np.abs(law.sf(x) - fine.sf(x))) <= law.error_estimate + fine.error_estimate
    q = np.array([1e-3, 0.3, 0.9, 0.999])
    assert np.allclose(law.cdf(law.ppf(q)), q, rtol=0.0, atol=1e-12)  # quantiles invert the same CDF


def test_a_law_that_cannot_meet_tol_warns_with_its_achieved_accuracy():
    # gelu at width 5 and s = 3: the series cannot converge (one unit's density has x^(1/(2s) - 1) at 0), and
    # the real-space route (sigdist.narrow) builds its tables to 1e-12: 1e-13 is out of reach
    with pytest.warns(SigdistWarning) as record:
        law = squared_norm_law(Layer(5, 0.6, 0.0, "gelu"), 5.0, tol=1e-13)
    assert law.error_estimate > 1e-13
    message = " ".join(str(w.message) for w in record)
    assert f"{law.error_estimate:.3g}" in message and "tol=1e-13" in message


# gelu, width 5, s = 5 by validation/reference_narrow.py (h-space convolution, shares no code with
# sigdist; its own accuracy 1.2e-12): P(z <= x)
GELU_N5_S5_X = np.array([1e-8, 1e-4, 0.15, 0.3, 0.77, 2.0, 4.0, 10.0, 20.0, 50.0])
GELU_N5_S5_CDF = np.array([4.255335856826676e-08, 2.113221277928379e-05, 0.06741747956258674,
                           0.08733060952384289, 0.1293218224109491, 0.208017270288924, 0.3114622901210074,
                           0.5526046123629401, 0.7936545713116684, 0.9835560394294623])


def test_a_pile_up_at_zero_costs_the_series_accuracy_only_near_zero():
    # gelu at width 5, s = 5: P(z < x) ~ x^(1/2) times logs, and 2^20 coefficients leave the series 4.7e-6
    # short at z = 0. Anchored there, that was an offset of the whole CDF; the exact mean anchors it away
    # from the pile-up (KernelSeries.cdf_continuous), so past z = 0.15 (above the singular points
    # j (min gelu)^2 = 0.029 j near 0) the series meet 1e-8, and their error estimate bounds the error near 0
    kernel = FourierKernel(Layer(5, 1.0, 0.0, "gelu"))
    gs = group_series(kernel, np.array([5.0]), 1e-8)
    series = KernelSeries(gs.coef[0], gs.period, gs.atoms[0], gs.means[0], gs.period / 1.05)
    err = np.abs(series.cdf_continuous(GELU_N5_S5_X) - GELU_N5_S5_CDF)
    assert np.max(err) <= gs.errors[0]
    assert np.max(err[GELU_N5_S5_X >= 0.15]) <= 1e-8 < gs.errors[0]
    # the series' window ends at P = 364, where the pile-up at 0 wraps round (0 = P): read only up to the
    # Chernoff end, the far right tail (P(z > 300) < 1e-10, as z <= s chi2_5 + 5 (min gelu)^2) stays below 1e-9,
    # where the ripple put 4.7e-6 to 5e-5 into it
    far = np.array([300.0, 350.0, 363.0])
    assert np.all(series.continuous_mass - series.cdf_continuous(far) <= 1e-9)
    # the layer's law does not read these series: they miss its budget, and it is met in real space
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(5, 1.0, 0.0, "gelu"), 5.0)
    assert np.max(np.abs(law.cdf(GELU_N5_S5_X) - GELU_N5_S5_CDF)) <= law.error_estimate <= 1e-8
    assert np.all(law.sf(far) <= 1e-9)


# validation/reference_narrow.py (h-space convolution; refined 1.4 times it moves by 1.3e-14), s = 20
GELU_N5_S20_X = np.array([1e-10, 1e-6, 5e-5, 1e-3, 0.1, 1.0, 10.0])
GELU_N5_S20_CDF = np.array([7.990246783155202e-05, 0.0005152152872855352, 0.0013258386992299645,
                            0.0033416268144369652, 0.04450624938799699, 0.07507974142846086, 0.2148901378731117])


def test_the_series_estimate_bounds_a_pile_up_it_cannot_resolve():
    # gelu at width 5, s = 20: P(z < x) ~ x^(N / 2s) = x^(1/8) times logs, so the coefficients decay like
    # k^-p with p ~ 0.5 over the last terms, and the CDF error falls by only 2^-p per octave of terms: the
    # change over the last octave (5.7e-4) understates the error (1.07e-3 at z = 5e-5) by 1 / (2^p - 1)
    kernel = FourierKernel(Layer(5, 1.0, 0.0, "gelu"))
    gs = group_series(kernel, np.array([20.0]), 1e-8)
    series = KernelSeries(gs.coef[0], gs.period, gs.atoms[0], gs.means[0], gs.period / 1.05)
    err = np.abs(series.cdf_continuous(GELU_N5_S20_X) - GELU_N5_S20_CDF)
    assert np.max(err) > 1e-4  # the case is one the series cannot resolve, not one it meets
    assert np.max(err) <= gs.errors[0]


def test_a_pile_up_the_series_cannot_resolve_is_met_in_real_space():
    # the same law: the layer's law takes it from sigdist.narrow (CDFs convolved in g), to 1e-10 where the
    # series were 1e-3 off, and its estimate bounds the error
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(5, 4.0, 0.0, "gelu"), 5.0)
    err = np.abs(law.cdf(GELU_N5_S20_X) - GELU_N5_S20_CDF)
    assert np.max(err) <= law.error_estimate <= 1e-8


# -- the stationary law of tanh with bias --------------------------------------------------------

def test_tanh_stationary_law_mean_matches_a_long_monte_carlo_chain():
    width, sigma_w2, sigma_b2 = 20, 1.5 / 20, 0.05
    law = stationary_law(Layer(width, sigma_w2, sigma_b2, "tanh"))
    assert abs(law.perron_eigenvalue - 1.0) <= 1e-8
    assert law.error_estimate <= 1e-8
    # independent chains; each chain's average over the steps after burn-in is one independent draw
    # (|lambda_2| ~ 0.56: 60 steps forget the start to 1e-15)
    rng = np.random.default_rng(14)
    chains, burn_in, steps = 20_000, 60, 100
    z = np.full(chains, 1.0)
    total = np.zeros(chains)
    for step in range(burn_in + steps):
        h = np.sqrt(sigma_w2 * z + sigma_b2)[:, None] * rng.standard_normal((chains, width))
        z = np.sum(np.tanh(h) ** 2, axis=1)
        if step >= burn_in:
            total += z
    averages = total / steps
    se = averages.std(ddof=1) / math.sqrt(chains)
    assert abs(averages.mean() - law.mean()) < Z_MAX * se


def test_tanh_augmented_matrix_conserves_mass_on_the_reachable_columns():
    width = 20
    op = TransitionOperator(Layer(width, 1.5 / width, 0.05, "tanh"))
    grid = default_stationary_grid(op, 1e-8)
    A = augmented_matrix(op, grid)
    weights = np.full(grid.size + 1, grid.spacing)
    weights[0] = 1.0
    sums = (weights @ A) / weights
    # z <= N sup tanh^2 = N and the grid reaches past it: no mass leaves on the right, and the left tail
    # below the grid start is under tol * 1e-3; a column loses or gains at most what the operator's tol allows
    reachable = np.concatenate([[True], grid.z <= width])
    assert np.exp(grid.end) >= width
    assert np.max(np.abs(sums[reachable] - 1.0)) <= 1e-8
    # what the stationary law sees: the Perron eigenvalue, mass conserved to 1e-12
    law = stationary_law(op, grid=grid)
    v = np.concatenate([[law.atom], law.continuous.values]) * weights
    assert abs(sums @ v / v.sum() - 1.0) <= 1e-12


# -- bad input and aliases -------------------------------------------------------------------------

def test_callable_returning_nan_on_the_gaussian_support_is_refused_by_name():
    def broken_tanh(h):
        return np.where(np.abs(h) > 3.0, np.nan, np.tanh(h))

    with pytest.raises(ValueError, match="broken_tanh"):
        Layer(10, 0.1, 0.0, broken_tanh)


def test_callable_growing_like_exp_h_squared_is_refused_by_name():
    def exploding(h):
        return np.exp(0.2 * np.asarray(h) ** 2)  # phi^2 ~ e^{0.4 h^2}: no finite mean for s >= 1.25

    with pytest.raises(ValueError, match="exploding.*grows"):
        Layer(10, 0.1, 0.0, exploding)


def test_unknown_activation_name_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="tanhh") as info:
        Layer(10, 0.1, 0.0, "tanhh")
    assert "tanh" in str(info.value).replace("'tanhh'", "")


def test_swish_is_silu():
    assert Layer(10, 0.2, 0.0, "swish").activation is Layer(10, 0.2, 0.0, "silu").activation
    a = squared_norm_law(Layer(10, 0.2, 0.1, "swish"), 1.0)
    b = squared_norm_law(Layer(10, 0.2, 0.1, "silu"), 1.0)
    x = b.ppf(QUANTILES)
    assert np.array_equal(a.cdf(x), b.cdf(x))


def test_scalar_only_callable_is_wrapped_and_gives_the_law_of_the_named_activation():
    layer = Layer(20, 0.075, 0.05, math.tanh)
    law = squared_norm_law(layer, 1.0)
    named = squared_norm_law(Layer(20, 0.075, 0.05, "tanh"), 1.0)
    x = named.ppf(QUANTILES)
    assert np.max(np.abs(law.cdf(x) - named.cdf(x))) <= law.error_estimate + named.error_estimate


def test_vectorised_callable_vanishing_at_zero_is_accepted():
    layer = Layer(10, 0.2, 0.0, lambda h: np.maximum(h, 0.0))
    assert layer.activation.chi2_kind is None
    assert TransitionOperator(layer).route == "fourier"


def test_bounded_callable_gives_the_law_of_the_named_activation():
    layer = Layer(10, 0.1, 0.05, lambda h: special.expit(h))
    law = squared_norm_law(layer, 1.0)
    named = squared_norm_law(Layer(10, 0.1, 0.05, "sigmoid"), 1.0)
    x = named.ppf(QUANTILES)
    assert np.max(np.abs(law.cdf(x) - named.cdf(x))) <= law.error_estimate + named.error_estimate


@pytest.mark.parametrize("name, slope2", [("tanh", 1.0), ("gelu", 0.25), ("erf", 4.0 / math.pi)])
def test_a_tiny_variance_gives_the_scaled_chi_square_law(name, slope2):
    # as s -> 0, phi(sqrt(s) g)^2 = phi'(0)^2 s g^2 (1 + O(s)): at s = 4e-201 the law of z / s is
    # phi'(0)^2 chi2_N to roundoff, a closed form.  psi^2 underflowed there (a ZeroDivisionError before).
    from scipy import stats

    y0, layer = 1e-200, Layer(5, 0.4, 0.0, name)
    law = squared_norm_law(layer, y0)
    s = layer.variance(y0)
    x = slope2 * stats.chi2.ppf([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999], 5)
    assert np.max(np.abs(law.cdf(s * x) - stats.chi2.cdf(x / slope2, 5))) <= law.error_estimate
    assert law.error_estimate <= 1e-8


def test_a_variance_below_float64s_reach_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"y = 1e-320 .* variance 4e-321.* at least 1e-300"):
        squared_norm_law(Layer(5, 0.4, 0.0, "tanh"), 1e-320)


def test_the_log_grid_does_not_double_with_every_layer():
    # each layer refines its own grid until resolved; it took the input's (already refined) spacing as its
    # start, so the grid doubled every layer: tanh at width 10, depth 8 had 143947 points (gelu at width 20
    # ran out of 24 GB by depth 15). Now 297, and the same error estimate
    laws = layer_laws(Network([Layer(10, 0.15, 0.0, "tanh")] * 8), 10.0)
    assert laws[-1].grid.size < 4 * laws[0].grid.size
    assert max(law.error_estimate for law in laws) <= 2e-9
