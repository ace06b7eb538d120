r"""Exact moments of :math:`z_l = |x^{(l)}|^2`, computed in log space.

Given :math:`z_{l-1} = y`, a layer gives :math:`z_l = s\,S_l` with
:math:`s = \sigma_w^2 y + \sigma_b^2` and :math:`S_l = \sum_{i \le N_l} \phi(g_i)^2`
independent of ``y`` for a positively homogeneous ``phi`` (relu, leaky_relu, linear, abs).
Hence, for every integer ``k``,

.. math::
    E[z_l^k] = E[S_l^k] \sum_{j=0}^{k} \binom{k}{j} \sigma_w^{2j}\sigma_b^{2(k-j)} E[z_{l-1}^j],

a sum of nonnegative terms, evaluated as a log-sum-exp so that it neither over- nor
underflows at any depth. :math:`E[S^k]` comes from the moments of one unit,
:math:`E[\phi(g)^{2j}] = (2j-1)!!\,(\phi(1)^{2j} + \phi(-1)^{2j}) / 2`, by the binomial
convolution of moment sequences of independent sums (again nonnegative terms only). For
relu this gives :math:`E[S] = N/2` (eq. 6 unrolled) and :math:`E[S^2] = N(N+5)/4`.

With :math:`\sigma_b = 0` the law is a product, :math:`z_L = y_0 \prod_l \sigma_{w,l}^2 S_l`,
and every real order ``r`` has the closed form
:math:`E[(\chi^2_k)^r] = 2^r\Gamma(k/2 + r)/\Gamma(k/2)` for the chi-square activations.

For an activation that is not homogeneous, :math:`E[z_l^k \mid y] = f_k(s)` with
:math:`f_k` from the moments of :math:`\phi(\sqrt{s} g)^2` (Gauss quadrature); it is exact
for a point input and is averaged over the previous layer's discretised law otherwise
(with that law's error carried).

The stationary law of constant layers with bias solves the same recursion with
:math:`E[z_l^j] = E[z_{l-1}^j]`; :math:`E[z^k]` is finite exactly when
:math:`\sigma_w^{2k} E[S^k] < 1`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import warnings

import numpy as np
from scipy import special

from ._result import Result
from ._chain_tails import ChainRightTails
from ._mellin import ProductTails
from .kernel import Chi2Mixture
from .network import Layer

__all__ = ["SquaredNormMoments", "MomentChain"]

# Largest integer order with an exact recursion: beyond it log k! and the binomials lose digits.
MAX_ORDER = 200


def _log_binom(k):
    j = np.arange(k + 1)
    return special.gammaln(k + 1.0) - special.gammaln(j + 1.0) - special.gammaln(k - j + 1.0)


def logsumexp(a, axis=None):
    a = np.asarray(a, dtype=np.float64)
    if axis is None and a.size == 0:
        return -math.inf
    with np.errstate(invalid="ignore"):
        top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", over="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    if axis is None:
        return float(out.ravel()[0])
    return np.squeeze(out, axis=axis)


def _binomial_convolution(la, lb, wa, wb):
    """``log E[(wa A + wb B)^k]`` for independent ``A``, ``B`` from ``log E[A^j]``, ``log E[B^j]``.

    ``la``, ``lb`` have shape ``(..., kmax + 1)`` (a batch of independent pairs).
    """
    kmax = la.shape[-1] - 1
    out = np.empty(np.broadcast_shapes(la.shape, lb.shape))
    lwa = math.log(wa) if wa > 0 else -math.inf
    lwb = math.log(wb) if wb > 0 else -math.inf
    for k in range(kmax + 1):
        j = np.arange(k + 1)
        with np.errstate(invalid="ignore"):
            terms = _log_binom(k) + j * lwa + la[..., :k + 1] + (k - j) * lwb + lb[..., k::-1]
        terms = np.where(np.isnan(terms), -np.inf, terms)  # 0 * log 0: a zero weight to the 0th power
        out[..., k] = logsumexp(terms, axis=-1)
    return out


def _sum_log_moments(unit, width):
    """``log E[(S / N)^k]`` for ``S`` the sum of ``width`` i.i.d. copies of a unit with ``log E[X^k] = unit``.

    Binary powering: ``S_{2n} / 2n = (S_n / n + S'_n / n) / 2`` and
    ``S_{n+1} / (n+1) = (n S_n / n + X) / (n + 1)``; all terms are nonnegative.
    """
    result, n = None, 0
    power, p = unit.copy(), 1
    w = width
    while w:
        if w & 1:
            if result is None:
                result, n = power.copy(), p
            else:
                result = _binomial_convolution(result, power, n / (n + p), p / (n + p))
                n += p
        w >>= 1
        if w:
            power = _binomial_convolution(power, power, 0.5, 0.5)
            p *= 2
    return result


def _homogeneous_unit(activation, kmax):
    """``log E[phi(g)^{2j}]``, ``j = 0..kmax``: ``(2j - 1)!! (phi(1)^{2j} + phi(-1)^{2j}) / 2``."""
    j = np.arange(kmax + 1, dtype=np.float64)
    ends = []
    for g in (1.0, -1.0):
        a = abs(float(np.asarray(activation(np.array([g])))[0]))
        with np.errstate(divide="ignore", invalid="ignore"):
            ends.append(np.where(j == 0, 0.0, 2 * j * (math.log(a) if a > 0 else -math.inf)))
    double_factorial = special.gammaln(2 * j + 1) - j * math.log(2.0) - special.gammaln(j + 1)
    return double_factorial + np.logaddexp(*ends) - math.log(2.0)


def sum_of_units(unit, width):
    """``log E[S^k]`` of a sum of ``width`` i.i.d. units with ``log E[X^k] = unit`` (shape ``(..., kmax + 1)``)."""
    kmax = unit.shape[-1] - 1
    k = np.arange(kmax + 1)
    first = unit[..., 1:2]
    dead = ~np.isfinite(first[..., 0])  # X = 0 surely
    first = np.where(np.isfinite(first), first, 0.0)
    scaled = _sum_log_moments(unit - k * first, width)  # moments of S / (N E[X]): O(1) numbers
    out = scaled + k * (first + math.log(width))
    return np.where(dead[..., None], np.where(k == 0, 0.0, -np.inf), out)


def unit_log_moments(layer: Layer, kmax: int):
    r"""``log E[S^k]``, ``k = 0..kmax``, of :math:`S = \sum_{i \le N} \phi(g_i)^2` (homogeneous ``phi``)."""
    act = layer.activation
    if not act.homogeneous:
        raise ValueError(f"activation {act.name!r} is not positively homogeneous: E[S^k] depends on the variance")
    cache = act.__dict__.setdefault("_log_moment_cache", {})
    key = (layer.width, kmax)
    if key not in cache:
        cache[key] = sum_of_units(_homogeneous_unit(act, kmax), layer.width)
    return cache[key]


def _variance_log_moments(layer: Layer, log_y):
    """``log E[s^k]`` with ``s = sigma_w2 y + sigma_b2`` from ``log E[y^j]``, ``j = 0..k``."""
    kmax = log_y.size - 1
    lw = math.log(layer.sigma_w2)
    lb = math.log(layer.sigma_b2) if layer.sigma_b2 > 0 else -math.inf
    if layer.sigma_b2 == 0:
        return log_y + np.arange(kmax + 1) * lw
    out = np.empty(kmax + 1)
    for k in range(kmax + 1):
        j = np.arange(k + 1)
        out[k] = logsumexp(_log_binom(k) + j * lw + (k - j) * lb + log_y[:k + 1])
    return out


def _nonhomogeneous_given_s(layer: Layer, s, kmax):
    """``log E[z^k | s]``, shape ``(len(s), kmax + 1)``, for each variance in ``s`` (any ``phi``)."""
    unit = layer.activation.squared_log_moments(np.atleast_1d(np.asarray(s, dtype=np.float64)), kmax)
    return sum_of_units(unit, layer.width)


def chi2_log_real_moment(layer: Layer, r):
    """``log E[S^r]`` for real ``r > 0`` where ``S`` is a chi-square mixture (relu, leaky relu, linear, abs); else None."""
    act = layer.activation
    if act.chi2_kind == "leaky":  # a scale mixture of chi2_N (sigdist.leaky)
        return Chi2Mixture(layer, cutoff=math.inf).log_real_moment(r)
    logw = act.chi2_log_weights(layer.width)
    if logw is None:
        return None
    k = np.arange(logw.size, dtype=np.float64)[1:]
    lw = logw[1:]
    keep = np.isfinite(lw)
    terms = lw[keep] + r * math.log(2.0) + special.gammaln(0.5 * k[keep] + r) - special.gammaln(0.5 * k[keep])
    return logsumexp(terms)


class MomentChain:
    """Exact moments of one law in a chain of layers, computed on demand and cached.

    A node is the input (a point ``y0``, a scipy law, or a :class:`~sigdist.laws.SquaredNormLaw`),
    a layer applied to a parent node, or the stationary law of a layer. ``log_moments(k)``
    returns ``(log E[z^j], rel_error_j)`` for ``j = 0..k``; the chain is walked iteratively
    (depth 10^4 costs no recursion) and every node on the way keeps its result.
    """

    __slots__ = ("parent", "layer", "kind", "source", "_logm", "_err")

    def __init__(self, kind, *, parent=None, layer=None, source=None):
        self.kind, self.parent, self.layer, self.source = kind, parent, layer, source
        self._logm = np.zeros(1)
        self._err = np.zeros(1)

    @classmethod
    def point(cls, y0):
        return cls("point", source=float(y0))

    @classmethod
    def from_input(cls, input_law):
        """Root node of an input law (scipy frozen law or SquaredNormLaw)."""
        node = getattr(input_law, "moment_chain", None)
        if node is not None:
            return node
        return cls("law" if hasattr(input_law, "continuous") else "scipy", source=input_law)

    @classmethod
    def given(cls, log_moments):
        """A law whose moments ``log E[z^j]``, ``j = 0..k``, are known in closed form (higher ones are not)."""
        return cls("given", source=np.asarray(log_moments, dtype=np.float64))

    @classmethod
    def stationary(cls, layer):
        return cls("stationary", layer=layer)

    def then(self, layer, input_law=None):
        """The node of ``layer`` applied to this node's law.

        A layer whose activation is not homogeneous needs the input's discretised law
        (``input_law``, a SquaredNormLaw) unless the input is a point.
        """
        source = None
        if not layer.activation.homogeneous and input_law is not None:
            source = input_law.quadrature_nodes()
        return MomentChain("layer", parent=self, layer=layer, source=source)

    # -- integer orders -------------------------------------------------------------------------
    def log_moments(self, kmax):
        kmax = int(kmax)
        if self._logm.size > kmax:
            return self._logm[:kmax + 1], self._err[:kmax + 1]
        path, node = [], self
        while node.kind == "layer" and node._logm.size <= kmax:
            path.append(node)
            node = node.parent
        if node._logm.size <= kmax:
            node._logm, node._err = node._root_moments(kmax)
        logm, err = node._logm[:kmax + 1], node._err[:kmax + 1]
        for node in reversed(path):
            logm, err = node._layer_moments(logm, err)
            node._logm, node._err = logm, err
        return logm, err

    def _layer_moments(self, log_y, err_y):
        layer = self.layer
        kmax = log_y.size - 1
        if layer.activation.homogeneous:
            out = unit_log_moments(layer, kmax) + _variance_log_moments(layer, log_y)
            # a positive combination of the input's moments: relative errors do not grow
            return out, np.maximum.accumulate(err_y)
        if self.parent.kind == "point":
            return _nonhomogeneous_given_s(layer, [layer.variance(self.parent.source)], kmax)[0], np.zeros(kmax + 1)
        if self.source is None:
            raise NoExactMoments()
        # E[z^k] = E_y[f_k(s(y))] over the previous layer's discretised law; a CDF error eps of
        # that law moves the average by at most eps * max f_k (f_k is monotone in s)
        log_y, w, eps = self.source
        keep = w > 0
        with np.errstate(over="ignore"):
            s = np.exp(layer.log_variance(log_y[keep]))
        logf = _nonhomogeneous_given_s(layer, s, kmax)
        out = logsumexp(np.log(w[keep])[:, None] + logf, axis=0)
        with np.errstate(over="ignore", invalid="ignore"):
            err = np.where(np.isfinite(out), eps * np.exp(np.max(logf, axis=0) - out), np.inf)
        return out, np.maximum(err, np.maximum.accumulate(err_y))

    def _root_moments(self, kmax):
        k = np.arange(kmax + 1, dtype=np.float64)
        if self.kind == "point":
            y0 = self.source
            with np.errstate(divide="ignore", invalid="ignore"):
                logm = np.where(k == 0, 0.0, k * (math.log(y0) if y0 > 0 else -math.inf))
            return logm, np.zeros(kmax + 1)
        if self.kind == "scipy":
            return _scipy_log_moments(self.source, kmax)
        if self.kind == "stationary":
            return _stationary_log_moments(self.layer, kmax), np.zeros(kmax + 1)
        if self.kind == "given":
            if kmax >= self.source.size:
                raise NoExactMoments()
            return self.source[:kmax + 1], np.zeros(kmax + 1)
        # a SquaredNormLaw given without its chain: its own discretisation, with its error
        log_y, w, eps = self.source.quadrature_nodes()
        keep = (w > 0) & np.isfinite(log_y)
        logm = logsumexp(np.log(w[keep])[:, None] + k * log_y[keep][:, None], axis=0)
        top = k * float(log_y[keep].max()) if np.any(keep) else np.zeros(kmax + 1)
        logm[0] = 0.0
        with np.errstate(over="ignore"):
            err = np.where(k == 0, 0.0, eps * np.exp(top - logm))
        return logm, err

    # -- real orders (zero bias) ---------------------------------------------------------------
    def log_real_moment(self, r):
        """``log E[z^r]`` for real ``r > 0`` when the chain is a product (no bias, chi2 layers, point input)."""
        total, node = 0.0, self
        while node.kind == "layer":
            layer = node.layer
            if layer.sigma_b2 > 0:
                return None
            term = chi2_log_real_moment(layer, r)
            if term is None:
                return None
            total += r * math.log(layer.sigma_w2) + term
            node = node.parent
        if node.kind != "point":
            return None
        return total + (r * math.log(node.source) if node.source > 0 else -math.inf)


def product_tails(node):
    """:class:`~sigdist._mellin.ProductTails` of a zero-bias chi-square chain from a point ``y0 > 0``, else None."""
    counts, layers = {}, {}
    while node.kind == "layer":
        layer = node.layer
        if layer.sigma_b2 > 0 or layer.activation.chi2_kind is None:
            return None
        key = (layer.width, layer.sigma_w2, layer.activation)  # a leaky relu's slope is in its activation
        counts[key] = counts.get(key, 0) + 1
        layers.setdefault(key, layer)
        node = node.parent
    if node.kind != "point" or not node.source > 0 or not counts:
        return None
    return ProductTails([(layers[key], n) for key, n in counts.items()], node.source)


def chain_right_tails(node, max_depth=200):
    """:class:`~sigdist._chain_tails.ChainRightTails` of a biased chi-square chain of depth 3 to ``max_depth``
    from a point, else None (depth 2 has its closed-form route, a zero-bias chain its Mellin-Barnes one).
    From ``y0 = 0`` the leading bias-free layers, which keep ``z = 0``, are left out."""
    layers = []
    while node is not None and node.kind == "layer":
        if node.layer.activation.chi2_kind is None or len(layers) >= max_depth:
            return None
        layers.append(node.layer)
        node = node.parent
    if node is None or node.kind != "point":
        return None
    depth, layers = len(layers), layers[::-1]
    while node.source == 0 and layers and layers[0].sigma_b2 == 0:
        layers = layers[1:]  # a bias-free layer maps the input 0 to 0
    if depth < 3 or len(layers) < 2 or all(layer.sigma_b2 == 0 for layer in layers):
        return None
    return ChainRightTails(layers, node.source)


class NoExactMoments(Exception):
    """Raised inside :class:`MomentChain` when no exact recursion reaches a node."""


def _stationary_log_moments(layer, kmax):
    """``log E[z^k]`` of the stationary law: ``E[z^k](1 - sigma_w^{2k} E S^k) = E S^k sum_{j<k} ...``."""
    out = np.zeros(kmax + 1)
    if layer.sigma_b2 == 0:  # the atom at 0
        out[1:] = -np.inf
        return out
    ls = unit_log_moments(layer, kmax)
    lw, lb = math.log(layer.sigma_w2), math.log(layer.sigma_b2)
    for k in range(1, kmax + 1):
        a = k * lw + ls[k]
        if a >= 0 or not np.isfinite(out[k - 1]):
            out[k:] = np.inf
            break
        j = np.arange(k)
        lower = logsumexp(_log_binom(k)[:k] + j * lw + (k - j) * lb + out[:k])
        out[k] = ls[k] + lower - math.log(-math.expm1(a))
    return out


def _scipy_log_moments(dist, kmax):
    r"""``log E[y^j]`` of a scipy law by :math:`E[y^j] = \int_0^\infty \bar F^{-1}(e^{-v})^j e^{-v}\,dv`.

    The integrand behaves as :math:`e^{v(j/\alpha - 1)}` for a tail index ``alpha``: if it has
    not started to fall by ``q = 1e-300`` the moment is infinite; otherwise the part beyond is
    extrapolated geometrically and reported as the relative error. (scipy's own ``moment`` is
    not used: it returns finite, even negative, values for divergent moments.)
    """
    nodes, weights = np.polynomial.legendre.leggauss(20)
    # geometric panels towards q = 1 (v = 0), where isf(e^-v)^j may behave like a power of v
    edges = np.concatenate([[0.0], np.geomspace(1e-16, 0.5, 17), np.arange(1.0, 691.0, 1.0)])
    a, b = edges[:-1, None], edges[1:, None]
    v = (0.5 * (a + b) + 0.5 * (b - a) * nodes).ravel()
    w = (0.5 * (b - a) * weights).ravel()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        y = np.asarray(dist.isf(np.exp(-v)), dtype=np.float64)
    if np.any(np.isnan(y)) or np.any(y < 0):
        raise ValueError("input_law: its quantile function isf returned NaN or negative values; "
                         "pass a law supported on [0, inf)")
    logm, err = np.zeros(kmax + 1), np.zeros(kmax + 1)
    with np.errstate(divide="ignore"):
        log_y = np.log(y)
    for j in range(1, kmax + 1):
        log_i = j * log_y - v  # log of the integrand
        if np.any(np.isposinf(log_i)):
            logm[j:], err[j:] = np.inf, 0.0
            break
        total = logsumexp(np.log(w) + log_i)
        # growth rate of the integrand over the last 50 units of v
        far = v > v[-1] - 50
        slope = np.polyfit(v[far], log_i[far], 1)[0] if np.all(np.isfinite(log_i[far])) else -np.inf
        if slope >= -1e-3:
            logm[j:], err[j:] = np.inf, 0.0
            break
        tail = log_i[-1] - math.log(-slope) if np.isfinite(slope) else -np.inf
        logm[j] = np.logaddexp(total, tail)
        err[j] = math.exp(tail - logm[j]) if np.isfinite(tail) else 0.0
    return logm, err


@dataclass(frozen=True, repr=False)
class SquaredNormMoments(Result):
    """Exact first two moments of ``|x^(l)|^2``, ``l = 1..L`` (the result of :func:`squared_norm_moments`).

    Attributes
    ----------
    first_moment, second_moment : ndarray, shape (L,)
        ``E|x^(l)|^2`` and ``E|x^(l)|^4``; ``inf`` beyond the float64 range.
    log_first_moment, log_second_moment : ndarray, shape (L,)
        Their natural logarithms, finite at any depth.
    """

    _dims = {"first_moment": ("layer",), "second_moment": ("layer",), "log_first_moment": ("layer",),
             "log_second_moment": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, self.first_moment.size + 1)}

    first_moment: np.ndarray
    second_moment: np.ndarray
    log_first_moment: np.ndarray
    log_second_moment: np.ndarray
