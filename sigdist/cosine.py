r"""The cosine similarity of two inputs after ReLU layers (Burkholz & Dubatovka Thm. 5, Fig. 2).

After one layer the cosine is :math:`\bar c/\sqrt{\bar a\,\bar b}` of the unit averages of the
per-unit triple :math:`(a, b, c) = (x_1^2, x_2^2, x_1 x_2)`: its mean has the infinite-width value
(the c-map) plus a ``1/N`` correction (:func:`mean_cosine`); its law is sampled exactly, with a
delta-method normal approximation whose error is measured (:func:`cosine_law`); over many
layers the mean-field recursion iterates the c-map (:func:`mean_field_cosines`).
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
from .relu_pair import check_pair_inputs, layer_covariance, mean_scalar_product, relu_moment

__all__ = ["MeanCosine", "mean_cosine", "mean_field_cosines", "CosineLaw", "cosine_law"]


def _per_unit_moments(v11, v22, v12):
    """Means and covariance of (a, b, c) = (x1^2, x2^2, x1 x2) for one unit."""
    M = lambda p, q: relu_moment(p, q, v11, v22, v12)  # noqa: E731
    swap = relu_moment(3, 1, v22, v11, v12)  # E[x1 x2^3]: the roles of the inputs swapped
    mean = np.array([v11 / 2, v22 / 2, M(1, 1)])
    second = np.array([[1.5 * v11**2, M(2, 2), M(3, 1)],
                       [M(2, 2), 1.5 * v22**2, swap],
                       [M(3, 1), swap, M(2, 2)]])
    return mean, second - np.outer(mean, mean)


@dataclass(frozen=True, repr=False)
class MeanCosine(Result):
    """The mean cosine after one relu layer (:func:`mean_cosine`): its infinite-width value (the c-map)
    and the value with the ``1/N`` correction."""

    infinite_width: float
    first_order: float


def mean_cosine(layer, y1, y2, y12):
    r"""Mean cosine similarity after one relu layer: the infinite-width value and its ``1/N`` correction.

    With per-unit ``(a, b, c) = (x_1^2, x_2^2, x_1 x_2)`` of means :math:`\mu` and covariance
    :math:`\Sigma`, the cosine is :math:`f(\bar a, \bar b, \bar c) = \bar c / \sqrt{\bar a \bar b}` of the
    unit averages, and the delta method gives
    :math:`E[\cos] = f(\mu) + \mathrm{tr}(H_f(\mu)\,\Sigma) / (2N) + O(N^{-2})`, with
    :math:`f(\mu) = 2 k_1(\rho)`, the c-map of mean-field theory.

    Parameters
    ----------
    layer : Layer
        A relu layer with i.i.d. Gaussian weights.
    y1, y2, y12 : float
        The previous layer's ``|x1|^2``, ``|x2|^2``, ``<x1, x2>``.

    Returns
    -------
    MeanCosine
        ``infinite_width`` :math:`f(\mu)` and ``first_order`` :math:`f(\mu) + \mathrm{tr}(H\Sigma)/(2N)`.
    """
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    mu, cov = _per_unit_moments(v11, v22, v12)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    H = r * np.array([[0.75 * c / a**2, 0.25 * c / (a * b), -0.5 / a],
                      [0.25 * c / (a * b), 0.75 * c / b**2, -0.5 / b],
                      [-0.5 / a, -0.5 / b, 0.0]])
    base = c * r
    return MeanCosine(float(base), float(base + float(np.sum(H * cov)) / (2 * layer.width)))


def mean_field_cosines(network, y1, y2, y12):
    r"""Infinite-width (mean-field) recursion of the mean pair state; the cosine per layer (relu).

    Each layer maps ``(y1, y2, y12)`` to ``(N v11 / 2, N v22 / 2, E<x1, x2>)`` (eq. 10) with ``V``
    of eq. 4; the cosine of the result is the c-map of the layer's pre-activation correlation.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; relu layers with i.i.d. Gaussian weights.
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
        v11, v22, _ = layer_covariance(layer, a, b, c)
        a, b, c = layer.width * v11 / 2, layer.width * v22 / 2, mean_scalar_product(layer, a, b, c)
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
    """Law of the cosine of the two signals after one relu layer given the previous layer (Fig. 2).

    Parameters
    ----------
    layer : Layer
        A relu layer with i.i.d. Gaussian weights.
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
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    if float(y1) == 0 or float(y2) == 0:
        raise ValueError(f"y1 and y2 must be > 0: the cosine of a zero signal is undefined, got y1={y1!r}, "
                         f"y2={y2!r}")
    cos = pair_samples(layer, y1, y2, y12, n_networks=n_networks, seed=seed).cosines[:, 0]
    ok = np.isfinite(cos)
    mu, cov = _per_unit_moments(v11, v22, v12)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    grad = r * np.array([-0.5 * c / a, -0.5 * c / b, 1.0])
    sd = math.sqrt(max(float(grad @ cov @ grad), 0.0) / layer.width)
    first = mean_cosine(layer, y1, y2, y12).first_order
    return CosineLaw(cos[ok], 1 - ok.mean(), first, sd)
