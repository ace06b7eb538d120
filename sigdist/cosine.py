r"""The cosine similarity of two inputs after a layer, any activation (Burkholz & Dubatovka Thm. 5, Fig. 2).

After one layer the cosine is :math:`\bar c/\sqrt{\bar a\,\bar b}` of the unit averages of the
per-unit triple :math:`(a, b, c) = (x_1^2, x_2^2, x_1 x_2)`: its mean has the infinite-width value
(the c-map) plus a ``1/N`` correction (:func:`mean_cosine`); its law is sampled exactly, with a
delta-method normal approximation whose error is measured (:func:`cosine_law`); over many
layers the mean-field recursion iterates the q-map and the c-map (:func:`mean_field_cosines`;
Poole et al. 2016). Relu uses the closed forms of :mod:`sigdist.relu_pair`; every other
activation the quadrature of :mod:`sigdist.pair_moments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._result import Result
from .empirical import EmpiricalLaw
from .network import as_network, check_layer
from .pairs import pair_samples
from .activations import get_activation
from .pair_moments import activation_moments, check_pair_inputs, layer_covariance, unit_moments
from .relu_pair import check_covariance, mean_scalar_product, relu_moment

__all__ = ["MeanCosine", "mean_cosine", "mean_field_cosines", "CosineLaw", "cosine_law"]


_RELU = get_activation("relu")  # built-in activations are one object each


def _per_unit_moments(activation, v11, v22, v12):
    """Means and covariance of (a, b, c) = (x1^2, x2^2, x1 x2) for one unit: relu's closed forms, else quadrature."""
    if activation is not _RELU:
        return unit_moments(activation, v11, v22, v12)
    v11, v22, v12 = check_covariance(v11, v22, v12)
    M = lambda p, q: relu_moment(p, q, v11, v22, v12)  # noqa: E731
    swap = relu_moment(3, 1, v22, v11, v12)  # E[x1 x2^3]: the roles of the inputs swapped
    mean = np.array([v11 / 2, v22 / 2, M(1, 1)])
    second = np.array([[1.5 * v11**2, M(2, 2), M(3, 1)],
                       [M(2, 2), 1.5 * v22**2, swap],
                       [M(3, 1), swap, M(2, 2)]])
    return mean, second - np.outer(mean, mean)


@dataclass(frozen=True, repr=False)
class MeanCosine(Result):
    """The mean cosine after one layer (:func:`mean_cosine`): its infinite-width value (the c-map)
    and the value with the ``1/N`` correction."""

    infinite_width: float
    first_order: float


def _layer_unit_moments(layer, y1, y2, y12):
    """``V`` of eq. 4 and the per-unit means and covariance of ``(a, b, c)``; a signal that is 0 surely is refused."""
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    mu, cov = _per_unit_moments(layer.activation, v11, v22, v12)
    if mu[0] <= 0 or mu[1] <= 0:
        raise ValueError(f"y1 and y2 must give signals that are not 0 surely after the layer (activation "
                         f"{layer.activation.name!r}): the cosine of a zero signal is undefined, got y1={y1!r}, "
                         f"y2={y2!r}")
    return mu, cov


def mean_cosine(layer, y1, y2, y12):
    r"""Mean cosine similarity after one layer: the infinite-width value and its ``1/N`` correction (any activation).

    With per-unit ``(a, b, c) = (x_1^2, x_2^2, x_1 x_2)``, :math:`x_j = \phi(h_j)`, of means :math:`\mu`
    and covariance :math:`\Sigma`, the cosine is :math:`f(\bar a, \bar b, \bar c) = \bar c / \sqrt{\bar a \bar b}`
    of the unit averages, and the delta method gives
    :math:`E[\cos] = f(\mu) + \mathrm{tr}(H_f(\mu)\,\Sigma) / (2N) + O(N^{-2})`, with
    :math:`f(\mu) = E\phi_1\phi_2/\sqrt{E\phi_1^2 E\phi_2^2}` the c-map of mean-field theory
    (:func:`~sigdist.relu_pair.c_map`; :math:`2 k_1(\rho)` for relu). Relu's moments are closed forms,
    every other activation's the quadrature of :func:`sigdist.pair_moments.unit_moments`.

    Parameters
    ----------
    layer : Layer
        A layer with i.i.d. Gaussian weights; any activation.
    y1, y2, y12 : float
        The previous layer's ``|x1|^2``, ``|x2|^2``, ``<x1, x2>``.

    Returns
    -------
    MeanCosine
        ``infinite_width`` :math:`f(\mu)` and ``first_order`` :math:`f(\mu) + \mathrm{tr}(H\Sigma)/(2N)`.
    """
    layer = check_layer(layer)
    mu, cov = _layer_unit_moments(layer, y1, y2, y12)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    H = r * np.array([[0.75 * c / a**2, 0.25 * c / (a * b), -0.5 / a],
                      [0.25 * c / (a * b), 0.75 * c / b**2, -0.5 / b],
                      [-0.5 / a, -0.5 / b, 0.0]])
    base = c * r
    return MeanCosine(float(base), float(base + float(np.sum(H * cov)) / (2 * layer.width)))


def mean_field_cosines(network, y1, y2, y12):
    r"""Infinite-width (mean-field) recursion of the mean pair state; the cosine per layer (any activation).

    Each layer maps ``(y1, y2, y12)`` to :math:`N\,(E\phi(h_1)^2, E\phi(h_2)^2, E\phi(h_1)\phi(h_2))`
    with :math:`(h_1, h_2) \sim N(0, V)` and ``V`` of eq. 4: the pre-activation variances follow
    Poole et al. (2016)'s q-map :math:`q^l = \sigma_w^2 N E\phi(\sqrt{q^{l-1}} z)^2 + \sigma_b^2` (eq. 3;
    their :math:`\sigma_w^2` is our :math:`N \sigma_w^2`) and the correlations their c-map (eq. 5), whose
    fixed points are their :math:`q^*` and :math:`c^*`. The result is the cosine of the signals,
    :math:`E\phi_1\phi_2 / \sqrt{E\phi_1^2 E\phi_2^2}` per layer (:func:`~sigdist.relu_pair.c_map`).
    Relu: eq. 10 and ``N v / 2``; other activations: the quadrature of :mod:`sigdist.pair_moments`.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; layers with i.i.d. Gaussian weights.
    y1, y2, y12 : float
        The inputs' ``|x1|^2 > 0``, ``|x2|^2 > 0``, ``<x1, x2>``.

    Returns
    -------
    ndarray, shape (depth,)
    """
    network = as_network(network)
    a, b, c = check_pair_inputs(y1, y2, y12)
    if a == 0 or b == 0:
        raise ValueError(f"y1 and y2 must be > 0: the cosine of a zero signal is undefined, got y1={y1!r}, "
                         f"y2={y2!r}")
    out = []
    for layer in network:
        v11, v22, v12 = layer_covariance(layer, a, b, c)
        if layer.activation is _RELU:
            a, b, c = layer.width * v11 / 2, layer.width * v22 / 2, mean_scalar_product(layer, a, b, c)
        else:
            a, b, c = layer.width * activation_moments(layer.activation, [(2, 0), (0, 2), (1, 1)], v11, v22, v12)
        if a <= 0 or b <= 0:
            raise ValueError(f"network: a signal is 0 surely after a layer with activation "
                             f"{layer.activation.name!r}; its cosine is undefined")
        out.append(c / math.sqrt(a * b))
    return np.array(out)


class CosineLaw(EmpiricalLaw):
    """Law of the cosine similarity after one layer: the empirical law of exact samples, with its normal approximation.

    The whole :class:`~sigdist.Law` contract of an empirical law (:class:`~sigdist.EmpiricalLaw`:
    ``cdf`` within ``dkw_band`` of the true CDF with probability 0.99, ``mean`` with ``mean_se()``).

    Parameters
    ----------
    samples : array_like
        Cosines of the networks where both signals are nonzero.
    p_undefined : float
        Share of the drawn networks where a signal was exactly 0 (cosine undefined; dropped).
    approx_mean, approx_sd : float
        Delta-method normal approximation: mean with the ``1/N`` correction, sd from the per-unit covariance.

    Attributes
    ----------
    dkw_band : float
        Half-width of the 99 % Dvoretzky-Kiefer-Wolfowitz band of the empirical CDF.
    approx_error : float
        Measured sup-distance between the normal approximation's CDF and the empirical one.
    """

    def __init__(self, samples, p_undefined, approx_mean, approx_sd):
        super().__init__(samples, label="cosine")
        self.p_undefined = float(p_undefined)
        n = self.size
        self.dkw_band = math.sqrt(math.log(2 / 0.01) / (2 * n))
        self.approx_mean, self.approx_sd = float(approx_mean), float(approx_sd)
        normal = special.ndtr((self.samples - self.approx_mean) / self.approx_sd)
        i = np.arange(1, n + 1)
        self.approx_error = float(max(np.max(np.abs(i / n - normal)), np.max(np.abs((i - 1) / n - normal))))

    def __repr__(self):
        return (f"CosineLaw(size={self.size}, mean={self.mean():.6g} +- {self.mean_se():.2g}, "
                f"approx_mean={self.approx_mean:.6g}, approx_sd={self.approx_sd:.3g}, "
                f"approx_error={self.approx_error:.3g})")


def cosine_law(layer, y1, y2, y12, *, n_networks=200_000, seed=None):
    """Law of the cosine of the two signals after one layer given the previous layer (Fig. 2; any activation).

    Parameters
    ----------
    layer : Layer
        A layer with i.i.d. Gaussian weights; any activation.
    y1, y2, y12 : float
        The previous layer's ``|x1|^2 > 0``, ``|x2|^2 > 0``, ``<x1, x2>``.
    n_networks : int, optional
        Number of drawn layers (samples of the exact reduced sampler).
    seed : optional
        Any seed sigdist takes.

    Returns
    -------
    CosineLaw
    """
    layer = check_layer(layer)
    layer_covariance(layer, y1, y2, y12)  # checks the inputs by name before any work
    if float(y1) == 0 or float(y2) == 0:
        raise ValueError(f"y1 and y2 must be > 0: the cosine of a zero signal is undefined, got y1={y1!r}, "
                         f"y2={y2!r}")
    mu, cov = _layer_unit_moments(layer, y1, y2, y12)
    cos = pair_samples(layer, y1, y2, y12, n_networks=n_networks, seed=seed).cosines[:, 0]
    ok = np.isfinite(cos)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    grad = r * np.array([-0.5 * c / a, -0.5 * c / b, 1.0])
    sd = math.sqrt(max(float(grad @ cov @ grad), 0.0) / layer.width)
    first = mean_cosine(layer, y1, y2, y12).first_order
    return CosineLaw(cos[ok], 1 - ok.mean(), first, sd)
