r"""The input-output Jacobian of a random network: laws of ``|J u|^2`` and moments of its spectrum.

Layer ``l`` maps ``x`` to ``x' = phi(h)``, ``h = W x + b``; its Jacobian is ``J_l = D_l W_l`` with
``D_l = diag(phi'(h))``, and a direction ``u`` of the input moves to ``u' = D_l W_l u`` (a
Jacobian-vector product). The derivation is in ``docs/jacobian.md``; in short:

* Given ``(x, u)``, each unit's pair ``(h_i, g_i) = (w_i . x + b_i, w_i . u)`` is centred Gaussian with
  covariance :math:`V = \begin{pmatrix} \sigma_w^2 |x|^2 + \sigma_b^2 & \sigma_w^2 \langle x, u\rangle \\
  \sigma_w^2 \langle x, u\rangle & \sigma_w^2 |u|^2 \end{pmatrix}`, i.i.d. over the ``N`` units. Hence the
  triple ``(|x|^2, |u|^2, <x, u>)`` is a Markov chain, as the two-input pair of Prop. 2
  (:func:`jvp_samples` samples it exactly, ``2N`` normals per layer and network).
* When ``phi'(h)^2`` depends on ``h`` only through its sign (relu, leaky relu, linear, abs), the law of
  ``(h, g)`` is invariant under ``(h, g) -> (-h, -g)``, so the sign of ``h_i`` is independent of
  ``g_i^2``: ``|u'|^2 = sigma_w2 |u|^2 (chi2_K + a^2 chi2_{N-K})``, ``K ~ Bin(N, 1/2)``, whatever
  ``|x|^2``, ``<x, u>`` and the bias. ``|J_l ... J_1 u|^2`` is then itself a Markov chain with the
  kernel of the squared norm of the zero-bias network: :func:`jvp_law` is that exact law.
* The same symmetry makes ``(|J u_1|^2, |J u_2|^2, <J u_1, J u_2>)`` a chain whose second moments close,
  which gives the exact finite-width spectral moments :math:`\frac1{N_0} E\,\mathrm{tr}(J^T J)` and
  :math:`\frac1{N_0} E\,\mathrm{tr}((J^T J)^2)` (:func:`spectral_moments`).

* For smooth ``phi`` (tanh, erf, gelu, silu, ...) the next layer's conditional moments of ``|u|^2`` are polynomials in
  ``(|u|^2, <x, u>^2)``, so measures on ``|x|^2`` alone carry ``E|J u|^2`` and ``E|J u|^4`` through any depth
  (:func:`jvp_moments`, :mod:`sigdist._jvp_mean`).

Monte Carlo of real networks (torch): :func:`jacobian_spectrum`, :func:`jvp_monte_carlo`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ._checks import check_input_norm, check_integer
from ._random import numpy_generator
from ._result import Result
from .empirical import EmpiricalLaw
from .network import Network, as_network, require_gaussian_iid
from .pairs import correlated_pair
from .propagation import squared_norm_law, squared_norm_moments

__all__ = ["JvpMoments", "JvpSamples", "SpectralMoments", "activation_derivative", "jacobian_spectrum",
           "jvp_law", "jvp_moments", "jvp_monte_carlo", "jvp_samples", "reduces_to_squared_norm",
           "spectral_moments"]


# -- phi' --------------------------------------------------------------------------------------------

def _sigmoid_prime(h):
    s = special.expit(h)
    return s * (1.0 - s)


_DERIVATIVES = {
    "relu": lambda h: (h > 0).astype(np.float64),
    "linear": lambda h: np.ones_like(h, dtype=np.float64),
    "abs": lambda h: np.sign(h).astype(np.float64),
    "tanh": lambda h: 1.0 / np.cosh(h) ** 2,
    "erf": lambda h: 2.0 / math.sqrt(math.pi) * np.exp(-h * h),
    "sigmoid": _sigmoid_prime,
    "softplus": special.expit,
    "silu": lambda h: special.expit(h) + h * _sigmoid_prime(h),
    "gelu": lambda h: special.ndtr(h) + h * np.exp(-0.5 * h * h) / math.sqrt(2.0 * math.pi),
    "sin": np.cos,
}


def activation_derivative(layer):
    """``phi'`` of a layer's activation as a vectorised numpy function.

    Closed forms for the built-in activations (``relu'(0) = 0``, as torch's autograd); a user's callable
    is differentiated by central differences with step ``1e-5 (1 + |h|)`` (relative error about 1e-10
    for smooth ``phi``).
    """
    name = layer.activation.name
    if name.startswith("leaky_relu"):
        slope = layer.negative_slope
        return lambda h: np.where(h > 0, 1.0, slope)
    if name in _DERIVATIVES:
        return _DERIVATIVES[name]
    phi = layer.activation.checked

    def central(h):
        h = np.asarray(h, dtype=np.float64)
        step = 1e-5 * (1.0 + np.abs(h))
        return (phi(h + step) - phi(h - step)) / (2.0 * step)
    return central


def _sign_piecewise(layer):
    """True when ``phi'(h)^2`` depends on ``h`` only through its sign (relu, leaky relu, linear, abs)."""
    name = layer.activation.name
    return name in ("relu", "linear", "abs") or name.startswith("leaky_relu")


def reduces_to_squared_norm(network) -> bool:
    """True when ``|J u|^2`` has the law of a squared signal norm (every layer i.i.d. Gaussian, ``phi'^2`` a
    function of the sign: relu, leaky relu, linear, abs; any bias; any direction ``u``)."""
    network = as_network(network)
    return all(layer.is_gaussian_iid and _sign_piecewise(layer) for layer in network)


def _zero_bias(network):
    """The network with every ``sigma_b2`` set to 0: the one whose squared norm ``|J u|^2`` follows."""
    layers = [type(layer)(layer.width, layer.sigma_w2, 0.0, layer.activation, layer.negative_slope)
              for layer in network]
    return Network(layers, network.input_width)


def _check_direction(y0, u_cos):
    y0 = check_input_norm(y0, "y0")
    if isinstance(u_cos, (bool, str)) or not isinstance(u_cos, (int, float, np.integer, np.floating)) \
            or not -1.0 <= float(u_cos) <= 1.0:
        raise ValueError(f"u_cos must be a number in [-1, 1] (the cosine between u and x0), got {u_cos!r}")
    return y0, float(u_cos)


# -- exact law -----------------------------------------------------------------------------------------

def jvp_law(network, y0=1.0, *, u_cos=0.0, tol=1e-8):
    r"""Exact law of ``|J u|^2`` for a unit direction ``u`` of the input (a Jacobian-vector product).

    For networks whose every layer has i.i.d. Gaussian weights and an activation with ``phi'^2`` a
    function of the sign of ``h`` (relu, leaky relu, linear, abs), ``|J_L ... J_1 u|^2`` is a Markov chain
    with the kernel of the squared norm of the same network without biases, started at ``|u|^2 = 1``:

    .. math:: |J u|^2 \overset{d}{=} |x^{(L)}|^2 \text{ of the zero-bias network with } |x^{(0)}|^2 = 1,

    whatever ``y0``, ``u_cos`` and ``sigma_b2`` (``docs/jacobian.md``; the proof is the symmetry
    ``(h, g) -> (-h, -g)`` of each unit's pre-activation and directional derivative). For ``|u|^2 = r``
    scale the law by ``r``.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes.
    y0 : float
        ``|x^(0)|^2`` (does not enter the law here; checked and kept for the general case).
    u_cos : float
        Cosine between ``u`` and ``x^(0)``, in ``[-1, 1]`` (does not enter the law here).
    tol : float
        Accuracy of the law (:func:`sigdist.squared_norm_law`).

    Returns
    -------
    SquaredNormLaw
        A frozen law (the :class:`sigdist.Law` contract), labelled ``|J u|^2``.

    Raises
    ------
    ValueError
        For an activation whose ``phi'^2`` is not a function of the sign (tanh, gelu, ...: use
        :func:`jvp_samples` and :func:`jvp_moments`), parameter sharing, batch norm or skip connections.

    Examples
    --------
    >>> import sigdist
    >>> law = sigdist.jacobian.jvp_law(sigdist.Network.he([5, 5, 5, 5]))
    >>> round(law.mean(), 10)
    1.0
    """
    network = as_network(network)
    _check_direction(y0, u_cos)
    for layer in network:
        require_gaussian_iid(layer)
        if not _sign_piecewise(layer):
            raise ValueError(f"jvp_law needs activations with phi'^2 a function of the sign (relu, leaky_relu, "
                             f"linear, abs), got {layer.activation.name!r}: use jvp_samples / jvp_moments")
    law = squared_norm_law(_zero_bias(network), 1.0, tol=tol)
    law.label = "|J u|^2"
    return law


# -- exact reduced sampler -----------------------------------------------------------------------------

def _mean_se(values):
    n = values.shape[0]
    return values.mean(axis=0), values.std(axis=0, ddof=1) / math.sqrt(n)


@dataclass(frozen=True, repr=False)
class JvpSamples(Result):
    """Samples of ``(|x^(l)|^2, |J_l..J_1 u|^2, <x^(l), J_l..J_1 u>)`` per drawn network and layer.

    Attributes
    ----------
    y, u2, yu : ndarray, shape (n_networks, depth)
        ``|x^(l)|^2``, ``|J u|^2`` and ``<x^(l), J u>`` (``u`` a unit vector).
    u2_mean, u2_mean_se, u2_second_moment, u2_second_moment_se : ndarray, shape (depth,)
        ``E|J u|^2``, ``E|J u|^4`` per layer and their standard errors.
    """

    y: np.ndarray
    u2: np.ndarray
    yu: np.ndarray
    u2_mean: np.ndarray = field(init=False)
    u2_mean_se: np.ndarray = field(init=False)
    u2_second_moment: np.ndarray = field(init=False)
    u2_second_moment_se: np.ndarray = field(init=False)

    _dims = {"y": ("network", "layer"), "u2": ("network", "layer"), "yu": ("network", "layer"),
             "u2_mean": ("layer",), "u2_mean_se": ("layer",), "u2_second_moment": ("layer",),
             "u2_second_moment_se": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, self.u2.shape[1] + 1)}

    def __post_init__(self):
        for name, values in (("u2_mean", self.u2), ("u2_second_moment", self.u2 ** 2)):
            mean, se = _mean_se(values)
            object.__setattr__(self, name, mean)
            object.__setattr__(self, f"{name}_se", se)

    def u2_law(self, layer=None):
        """Empirical law of ``|J u|^2`` at ``layer`` (``1..depth``; default the last)."""
        depth = self.u2.shape[1]
        layer = depth if layer is None else layer
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= depth:
            raise ValueError(f"layer must be an integer in [1, {depth}], got {layer!r}")
        return EmpiricalLaw(self.u2[:, int(layer) - 1], label=f"|J u|^2 at layer {layer}")


def jvp_samples(network, y0=1.0, *, u_cos=0.0, n_networks=100_000, seed=None, chunk=20_000):
    r"""The chain ``(|x|^2, |J u|^2, <x, J u>)`` through ``n_networks`` random networks, by the exact reduced sampler.

    Given the triple of a layer, each unit draws :math:`(h_i, g_i) \sim N(0, V)` with
    :math:`V_{11} = \sigma_w^2 |x|^2 + \sigma_b^2`, :math:`V_{12} = \sigma_w^2 \langle x, u\rangle`,
    :math:`V_{22} = \sigma_w^2 |u|^2`, and the next triple is
    :math:`(\sum \phi(h_i)^2, \sum \phi'(h_i)^2 g_i^2, \sum \phi(h_i)\phi'(h_i) g_i)`: no approximation,
    any activation (``phi'`` from :func:`activation_derivative`), any bias.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        i.i.d. Gaussian layers.
    y0 : float
        ``|x^(0)|^2``.
    u_cos : float
        Cosine between the unit direction ``u`` and ``x^(0)``, in ``[-1, 1]``.
    n_networks : int
        Number of drawn networks (``>= 2``).
    seed : optional
        Any seed sigdist takes.
    chunk : int
        Networks drawn at once.

    Returns
    -------
    JvpSamples

    Examples
    --------
    >>> import sigdist
    >>> s = sigdist.jacobian.jvp_samples([4, 4, 4], n_networks=1000, seed=0)
    >>> s.u2.shape
    (1000, 2)
    """
    network = as_network(network)
    for layer in network:
        require_gaussian_iid(layer)
    y0, u_cos = _check_direction(y0, u_cos)
    check_integer(n_networks, "n_networks", 2)
    check_integer(chunk, "chunk")
    rng = numpy_generator(seed)
    derivs = [activation_derivative(layer) for layer in network]
    out = [np.empty((n_networks, network.depth)) for _ in range(3)]
    for start in range(0, n_networks, chunk):
        m = min(chunk, n_networks - start)
        y, v, c = np.full(m, y0), np.ones(m), np.full(m, u_cos * math.sqrt(y0))
        for l, layer in enumerate(network):
            g = rng.standard_normal((2, m, layer.width))
            h, du = correlated_pair(layer.variance(y), layer.sigma_w2 * v, layer.sigma_w2 * c, g[0], g[1])
            x = layer.activation.checked(h)
            du = derivs[l](h) * du
            y, v, c = (x * x).sum(1), (du * du).sum(1), (x * du).sum(1)
            out[0][start:start + m, l], out[1][start:start + m, l], out[2][start:start + m, l] = y, v, c
    return JvpSamples(*out)


# -- moments -------------------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class JvpMoments(Result):
    """``E|J u|^2`` and ``E|J u|^4`` per layer for a unit direction ``u`` (from :func:`jvp_moments`).

    Attributes
    ----------
    first_moment, second_moment : ndarray, shape (depth,)
    first_moment_se, second_moment_se : ndarray or None
        Standard errors where the moments come from the reduced sampler; None otherwise.
    first_moment_error, second_moment_error : ndarray or None
        Error estimates of the deterministic measure recursion (smooth ``phi`` beyond depth 1); None otherwise.
    exact : bool
        True for the deterministic routes (closed recursion, quadrature, measure recursion), False for the sampler.
    """

    first_moment: np.ndarray
    second_moment: np.ndarray
    first_moment_se: np.ndarray | None = None
    second_moment_se: np.ndarray | None = None
    exact: bool = True
    first_moment_error: np.ndarray | None = None
    second_moment_error: np.ndarray | None = None

    _dims = {"first_moment": ("layer",), "second_moment": ("layer",), "first_moment_se": ("layer",),
             "second_moment_se": ("layer",), "first_moment_error": ("layer",), "second_moment_error": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, self.first_moment.size + 1)}


# Gauss-Legendre on [-12, 0] and [0, 12] against the normal density: the split takes relu-like kinks at 0, and
# unlike Gauss-Hermite it converges fast for tanh-like phi' with poles near the real axis
_GL_X, _GL_W = np.polynomial.legendre.leggauss(200)
_GH_NODES = np.concatenate([6.0 * (_GL_X - 1.0), 6.0 * (_GL_X + 1.0)])
_GH_WEIGHTS = np.concatenate([_GL_W, _GL_W]) * 6.0 * np.exp(-0.5 * _GH_NODES ** 2) / math.sqrt(2.0 * math.pi)


def _one_layer_moments(layer, y0, u_cos):
    r"""Exact ``E|u'|^2``, ``E|u'|^4`` of one layer from a point ``(|x|^2, |u|^2 = 1, <x,u>)``: with
    :math:`h = \sqrt{s} z_1`, :math:`g = \sigma_w(\rho z_1 + \sqrt{1-\rho^2} z_2)`, a product rule (Gauss-Legendre,
    400 x 400 nodes on ``[-12, 12]^2`` split at 0) for :math:`E[\phi'(h)^2 g^2]` and :math:`E[\phi'(h)^4 g^4]`; the ``N`` units are i.i.d."""
    s = layer.variance(y0)
    rho = layer.sigma_w2 * u_cos * math.sqrt(y0) / math.sqrt(s * layer.sigma_w2) if s > 0 else 0.0
    z1, z2 = _GH_NODES[:, None], _GH_NODES[None, :]
    w = _GH_WEIGHTS[:, None] * _GH_WEIGHTS[None, :]
    d2 = activation_derivative(layer)(math.sqrt(s) * z1) ** 2
    g2 = layer.sigma_w2 * (rho * z1 + math.sqrt(max(1.0 - rho * rho, 0.0)) * z2) ** 2
    a, b = float(np.sum(w * d2 * g2)), float(np.sum(w * d2 * d2 * g2 * g2))
    n = layer.width
    return n * a, n * b + n * (n - 1) * a * a


#: activations with bounded phi: the measure recursion's uniform lattice of |x|^2 covers them; unbounded smooth phi
#: (|x|^2 with a chi-square-like tail that widens with depth) take a graded grid of |x|^2 (sigdist._jvp_mean)
_BOUNDED = ("tanh", "erf", "sigmoid", "sin")
_UNBOUNDED = ("gelu", "silu", "softplus")


def jvp_moments(network, y0=1.0, *, u_cos=0.0, method="auto", points=None, n_networks=200_000, seed=None):
    r"""``E|J u|^2`` and ``E|J u|^4`` per layer, ``u`` a unit vector at cosine ``u_cos`` with ``x^(0)``.

    Exact where :func:`reduces_to_squared_norm` holds: they are those of the squared norm of the zero-bias
    network from ``|x^(0)|^2 = 1`` (:func:`sigdist.squared_norm_moments`); e.g. for relu,
    :math:`E|Ju|^2 = \prod_l \sigma_{w,l}^2 N_l / 2`. Otherwise (tanh, gelu, ...) the conditional
    moments of a layer depend on ``|x|^2`` and ``<x, u>^2`` jointly and do not close on finitely many
    numbers. At depth 1 a two-dimensional quadrature gives them (to roundoff for smooth ``phi``). Beyond,
    ``method="auto"`` or ``"measures"``: given the pre-activations, the next layer's conditional moments are
    polynomials in ``(|u|^2, <x, u>^2)`` (degree 1 for ``E|Ju|^2``, 2 for ``E|Ju|^4``), so the measures
    :math:`E[|u_l|^{2i}\langle x_l, u_l\rangle^{2j}; |x_l|^2 \in dy]`, ``i + j = 1`` or ``2``, follow a closed
    linear recursion (:mod:`sigdist._jvp_mean`, ``docs/jacobian.md`` §2): lattice kernels with ``points`` points
    per unit (default ``max(8, 256 // max width)``; the work grows like ``(N points)^2``), Richardson-extrapolated
    from ``points`` and ``2 points``; their difference, a conservative bound on the extrapolated value's error, is
    in ``first_moment_error`` / ``second_moment_error``. Unbounded smooth ``phi`` (gelu, silu, softplus): a graded grid
    of ``|x|^2`` (default ``points = 16``; the value of the run at ``2 points``, error ``|V(2p) - V(p)|`` plus a bound on
    the dropped mass); a mix with relu-like layers falls back to the sampler. ``method="samples"``: :func:`jvp_samples`
    (``n_networks``, ``seed``) with standard errors.

    Examples
    --------
    >>> import sigdist
    >>> m = sigdist.jacobian.jvp_moments(sigdist.Network.he([5, 5, 5, 5]))
    >>> m.exact, [round(float(v), 6) for v in m.first_moment]
    (True, [1.0, 1.0, 1.0])
    """
    network = as_network(network)
    y0, u_cos = _check_direction(y0, u_cos)
    if method not in ("auto", "measures", "samples"):
        raise ValueError(f"method must be 'auto', 'measures' or 'samples', got {method!r}")
    points_graded = 16 if points is None else points
    if points is None:
        points = max(8, 256 // max(network.widths))
    check_integer(points, "points", 8)
    if reduces_to_squared_norm(network) and method == "auto":
        m = squared_norm_moments(_zero_bias(network), 1.0)
        return JvpMoments(np.asarray(m.first_moment), np.asarray(m.second_moment))
    if network.depth == 1 and method == "auto":
        require_gaussian_iid(network[0])
        first, second = _one_layer_moments(network[0], y0, u_cos)
        return JvpMoments(np.array([first]), np.array([second]))
    bounded = (all(layer.activation.name in _BOUNDED for layer in network)
               or all(_sign_piecewise(layer) for layer in network))  # there |x|^2 does not enter: a self-check
    smooth = not bounded and all(layer.activation.name in _BOUNDED + _UNBOUNDED or _sign_piecewise(layer)
                                 for layer in network)  # mixes with relu-type layers take the graded grid
    if method == "measures" and not (bounded or smooth):
        raise ValueError(f"method='measures' needs smooth activations ({', '.join(_BOUNDED + _UNBOUNDED)}) or "
                         "sign-piecewise ones (relu, leaky_relu, linear, abs); use method='samples'")
    if method != "samples" and (bounded or smooth):
        from ._jvp_mean import jvp_mean_by_measures, jvp_moments_graded

        for layer in network:
            require_gaussian_iid(layer)
        derivs = [activation_derivative(layer) for layer in network]
        if smooth:
            m1, e1, m2, e2 = jvp_moments_graded(network, y0, u_cos, points_graded, derivs)
        else:
            (m1, e1), (m2, e2) = (jvp_mean_by_measures(network, y0, u_cos, points, derivs, k) for k in (1, 2))
        return JvpMoments(m1, m2, first_moment_error=e1, second_moment_error=e2)
    s = jvp_samples(network, y0, u_cos=u_cos, n_networks=n_networks, seed=seed)
    return JvpMoments(s.u2_mean, s.u2_second_moment, s.u2_mean_se, s.u2_second_moment_se, exact=False)


# -- exact spectral moments at finite width ---------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class SpectralMoments(Result):
    r"""Exact ``(1/N_0) E tr(J^T J)`` and ``(1/N_0) E tr((J^T J)^2)`` of ``J = dx^(l)/dx^(0)``, ``l = 1..L``.

    Attributes
    ----------
    first_moment, second_moment : ndarray, shape (depth,)
    """

    first_moment: np.ndarray
    second_moment: np.ndarray

    _dims = {"first_moment": ("layer",), "second_moment": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, self.first_moment.size + 1)}


def _unit_factor_moments(layer):
    """``(E m, E m^2)`` of one unit's ``m = phi'(h)^2`` for a sign-piecewise ``phi'`` (sign independent of g)."""
    name = layer.activation.name
    if name == "relu":
        return 0.5, 0.5
    if name in ("linear", "abs"):
        return 1.0, 1.0
    a2 = layer.negative_slope ** 2
    return 0.5 * (1.0 + a2), 0.5 * (1.0 + a2 * a2)


def _masked_chain(widths, variances, factors, input_width):
    """Second moments of ``(a, b, c) = (|J u1|^2, |J u2|^2, <J u1, J u2>)`` for orthonormal ``u1, u2``."""
    ea, ea2, eab, ec2 = 1.0, 1.0, 1.0, 0.0
    first, second = [], []
    for n, s2, (p, q) in zip(widths, variances, factors):
        # a' = sum_i m_i g1_i^2 etc., (g1, g2) ~ N(0, s2 [[a, c], [c, b]]), m_i independent of (g1, g2)
        diag, off = n * q * s2 * s2, n * (n - 1) * p * p * s2 * s2
        ea = n * p * s2 * ea
        ea2, eab, ec2 = (3 * diag + off) * ea2, (diag + off) * eab + 2 * diag * ec2, diag * eab + (2 * diag + off) * ec2
        first.append(ea)
        second.append(ea2 + (input_width - 1) * ec2)
    return np.array(first), np.array(second)


def spectral_moments(network):
    r"""Exact finite-width moments of the Jacobian's spectrum, ``(1/N_0) E tr((J^T J)^k)``, ``k = 1, 2``, per layer.

    For i.i.d. Gaussian layers with sign-piecewise ``phi'`` (relu, leaky relu, linear, abs; any bias) each
    unit's ``m_i = phi'(h_i)^2`` is independent of its directional derivatives ``(g_{1i}, g_{2i})`` for any
    two directions, so with ``a = |J u_1|^2``, ``b = |J u_2|^2``, ``c = <J u_1, J u_2>`` (``u_1 ⟂ u_2``
    unit) and :math:`\mu_1 = E m`, :math:`\mu_2 = E m^2`, :math:`d = N \mu_2 \sigma_w^4`,
    :math:`o = N(N-1)\mu_1^2\sigma_w^4`:

    .. math:: E a'^2 = (3d + o) E a^2,\quad E a'b' = (d + o) E ab + 2d\,E c^2,\quad
              E c'^2 = d\,E ab + (2d + o) E c^2,

    and :math:`\frac1{N_0} E\,\mathrm{tr}((J^TJ)^2) = E a^2 + (N_0 - 1) E c^2`,
    :math:`\frac1{N_0} E\,\mathrm{tr}(J^TJ) = E a = \prod_l N_l \mu_1 \sigma_{w,l}^2`.
    GSM networks: ``J^T J`` has the eigenvalues of ``2 P^T P``, ``P`` the product of the half-width
    Gaussian ``W0``'s, and ``N_0/2`` zeros; looks-linear networks of non-decreasing widths: ``N_0/2``
    eigenvalues 2 and ``N_0/2`` zeros (moments 1 and 2).

    Examples
    --------
    >>> import sigdist
    >>> m = sigdist.jacobian.spectral_moments(sigdist.Network.he([100, 100, 100]))
    >>> [round(float(v), 6) for v in m.first_moment], [round(float(v), 4) for v in m.second_moment]
    ([1.0, 1.0], [3.03, 5.1417])
    """
    network = as_network(network)
    if network.input_width is None:
        raise ValueError("network must know its input_width N_0 (Network(layers, input_width=N_0))")
    n0 = network.input_width
    sharing = {layer.sharing for layer in network}
    if sharing == {"looks_linear"}:
        widths = [n0] + network.widths
        if any(b < a for a, b in zip(widths, widths[1:])):
            raise ValueError("looks-linear spectral moments need non-decreasing widths (else P^T P is not I)")
        ones = np.ones(network.depth)
        return SpectralMoments(ones, 2.0 * ones)
    if sharing == {"gsm"}:
        reduced = network.reduced_linear()
        first, second = _masked_chain([l.width for l in reduced], [l.sigma_w2 for l in reduced],
                                      [(1.0, 1.0)] * reduced.depth, n0 // 2)
        # eigenvalues of 2 P^T P on N_0 / 2 directions, zeros on the other N_0 / 2
        return SpectralMoments(first, 2.0 * second)
    for layer in network:
        require_gaussian_iid(layer)
        if not _sign_piecewise(layer):
            raise ValueError(f"exact spectral moments need activations with phi'^2 a function of the sign (relu, "
                             f"leaky_relu, linear, abs), got {layer.activation.name!r}: use jacobian_spectrum")
    first, second = _masked_chain(network.widths, [l.sigma_w2 for l in network],
                                  [_unit_factor_moments(l) for l in network], n0)
    return SpectralMoments(first, second)


# -- Monte Carlo of real networks (torch) ------------------------------------------------------------------

def jacobian_spectrum(network, n_networks=100, *, y0=1.0, seed=None, init="network", device="auto", dtype=None):
    """Squared singular values of ``J = dx^(L)/dx^(0)`` of real random networks (torch), with the spectral moments
    and their standard errors; ``init="orthogonal"`` swaps unshared Gaussian weights for scaled Haar-orthogonal
    ones. Details: :func:`sigdist._jacobian_torch.jacobian_spectrum` (torch is the optional ``mc`` extra)."""
    return _torch_part().jacobian_spectrum(network, n_networks, y0=y0, seed=seed, init=init, device=device,
                                           dtype=dtype)


def jvp_monte_carlo(network, n_networks=10_000, *, y0=1.0, u_cos=0.0, seed=None, device="auto"):
    """``|x^(L)|^2`` and ``|J u|^2`` of real random networks by torch's forward-mode autodiff; see
    :func:`sigdist._jacobian_torch.jvp_monte_carlo`."""
    _check_direction(y0, u_cos)
    return _torch_part().jvp_monte_carlo(network, n_networks, y0=y0, u_cos=u_cos, seed=seed, device=device)


def _torch_part():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ImportError("real-network Jacobians need torch: pip install \"sigdist[mc]\"") from None
    from . import _jacobian_torch

    return _jacobian_torch
