r"""The law of one layer's output as an average of the kernel over the previous law: exact tails.

:class:`OneStep` gives :math:`P(0 < z_l \le t)` and :math:`P(z_l > t)` with relative accuracy down to
1e-300 (Burkholz & Dubatovka 2019, eq. 7 averaged over the nodes of the law of :math:`z_{l-1}`); the
laws of :mod:`sigdist.laws` read their far tails from it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from ._warnings import SigdistWarning
from .kernel import Chi2Mixture

__all__ = ["OneStep"]

_LOG2 = math.log(2.0)


class OneStep:
    r"""The continuous part of :math:`z_l` as an average of the kernel over the previous law's nodes.

    :math:`P(0 < z_l \le t) = \sum_i w_i\, P(0 < S \le t / s_i)` and
    :math:`P(z_l > t) = \sum_i w_i\, P(S > t / s_i)` with :math:`s_i = \sigma_w^2 y_i + \sigma_b^2`
    over the nodes of the law of :math:`z_{l-1}` (one node for a point input: then it is the
    closed form of eq. 7). Every term is a regularised incomplete gamma function, so the sums
    keep relative accuracy however small they are. With :math:`\sigma_b > 0` every
    :math:`s_i \ge \sigma_b^2`, so the far left tail is carried by the bulk of the previous
    law, which its grid holds: that tail is exact to the previous law's quadrature.
    """

    def __init__(self, layer, log_s, w, point):
        keep = (w > 0) & np.isfinite(log_s)  # s = 0 (sigma_b = 0, y = 0) feeds the atom, not the continuous part
        self.mixture = Chi2Mixture(layer, cutoff=745.0)
        self.log_s, self.w = log_s[keep], w[keep]
        self.point = point
        self.floor = layer.sigma_b2 > 0

    def tail(self, t, upper):
        t = np.asarray(t, dtype=np.float64)
        out = np.empty(t.shape)
        f = self.mixture.sf if upper else self.mixture.cdf_positive
        flat = t.ravel()
        step = max(1, 400_000 // max(1, self.log_s.size * self.mixture.k.size))
        with np.errstate(divide="ignore"):
            log_t = np.log(flat)
        for i in range(0, flat.size, step):
            log_ratio = log_t[i:i + step, None] - self.log_s[None, :]
            with np.errstate(over="ignore", under="ignore"):
                terms = f(np.exp(log_ratio))
            value = terms @ self.w
            if upper and not self.point:
                # the trapezoid rule over the previous grid resolves a far right tail only while the
                # integrand is smooth at the grid's spacing: half the nodes tell how well it does
                half = terms[:, 1::2] @ (2.0 * self.w[1::2]) + terms[:, 0] * self.w[0]
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = np.abs(half - value) / value
                worst = float(np.nanmax(rel)) if np.any(value > 0) else 0.0
                if worst > 1e-8:
                    warnings.warn(f"right tail P(z > t) of a biased layer read from the previous law's grid: "
                                  f"relative accuracy about {worst:.2g} at t = {float(flat[i + int(np.nanargmax(rel))]):.4g}",
                                  SigdistWarning, stacklevel=6)
            if not upper:
                # t / s below the float64 range: P(k/2, x) = x^{k/2} e^{-x} / Gamma(k/2 + 1) (1 + O(x)), in logs
                tiny = np.nonzero(np.any(log_ratio < -650.0, axis=1))[0]
                for r in tiny:
                    half = 0.5 * self.mixture.k
                    terms = (self.mixture.log_weights[None, :] + half[None, :] * (log_ratio[r][:, None] - _LOG2)
                             - special.gammaln(half + 1.0)[None, :])
                    with np.errstate(divide="ignore"):
                        logs = special.logsumexp(terms, axis=1) + np.log(self.w)
                    value[r] = math.exp(min(special.logsumexp(logs), 700.0))
            out.flat[i:i + step] = value
        return out
