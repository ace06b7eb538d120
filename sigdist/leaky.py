r"""The leaky-relu layer law :math:`S = \chi^2_K + a^2 \chi^2_{N-K}` as a scale mixture of :math:`\chi^2_N`.

With :math:`\phi(h) = h` for :math:`h > 0` and :math:`a h` otherwise, a layer of width ``N``
given its variance ``s`` has :math:`z = s S` (Burkholz & Dubatovka 2019, Prop. 1) with

.. math:: S = \sum_{i \le N} \phi(g_i)^2 = \chi^2_K + a^2 \chi^2_{N-K}, \qquad K \sim \mathrm{Bin}(N, 1/2),

the two chi-squares independent given ``K``. Only :math:`a^2` enters, so a negative slope has the
law of :math:`|a|`. Given ``K`` the pair :math:`(\chi^2_K, \chi^2_{N-K})` is :math:`T (B, 1 - B)` with
:math:`T \sim \chi^2_N` independent of :math:`B \sim \mathrm{Beta}(K/2, (N-K)/2)` (the gamma-beta
split), and :math:`T` does not depend on ``K``, so

.. math:: S = T R, \qquad R = \sigma(V) + a^2 \sigma(-V), \qquad V = \log \frac{B}{1 - B},

with ``T`` independent of ``(K, V)``: :math:`\log S = \log T + \log R` is a sum of independent terms,
:math:`R` lies between :math:`a^2` and 1 (``K = 0``: :math:`R = a^2`, ``K = N``: :math:`R = 1`, each with
probability :math:`2^{-N}`), and for :math:`1 \le K \le N - 1` the log-ratio ``V`` has the density

.. math:: f_K(v) = \frac{\sigma(v)^{K/2}\, \sigma(-v)^{(N-K)/2}}{B(K/2, (N-K)/2)},

smooth (analytic in :math:`|\operatorname{Im} v| < \pi`) and decaying exponentially at both ends
(rates :math:`K/2` and :math:`(N-K)/2`). Every law of ``S`` is an average of :math:`F(\rho(v))` over
``v`` with :math:`\rho(v) = \log R(v)` analytic in the same strip, so the trapezoid rule in ``v`` of step
``dv`` converges geometrically: the error falls like :math:`e^{-2\pi^2 \sigma^2 / dv^2}` for the
narrowest Gaussian-like factor of width :math:`\sigma` (the log-chi-square :math:`\log T`, width
:math:`\sqrt{2/N}`, and :math:`f_K`, width :math:`\sqrt{\psi'(K/2) + \psi'((N-K)/2)}`). The nodes
:math:`v_j = j\,dv` with weights :math:`W_j = dv \sum_K P(K) f_K(v_j)` turn ``S`` into a finite positive
scale mixture :math:`S = \sum_j W_j\, R_j \chi^2_N` (the chi-square-mixture form of :mod:`sigdist.kernel`
with a scale per term). The sum runs over all integers ``j`` where the weights are not negligible, far
past where :math:`R_j` has reached :math:`a^2` or 1: it is not truncated, so the rule keeps its spectral
accuracy. Those slowly decaying ends (rates ``1/2`` for ``K = 1`` and ``N - 1``), together with the
atoms ``K = 0`` and ``K = N``, hold hundreds of nodes within :math:`\varepsilon \approx 0.05 / (N/2 + 750)`
of an end in :math:`\log R`; each end's cluster is replaced by the 6-point Gauss rule of its discrete
measure, exact to ~1e-24 for every law read from the mixture (:func:`_compress_ends`). The checks against
independent references (the negative-binomial chi-square series and convolution quadrature in mpmath,
the closed-form characteristic function, nested quadrature, Monte Carlo) are in ``tests/test_leaky.py``.

The classical representation as a negative-binomial mixture :math:`a^2 \chi^2_{N + 2J}` (Ruben 1962)
needs more than :math:`E J = N (1 - a^2) / (4 a^2)` terms, 50000 at PyTorch's default :math:`a = 0.01`
and ``N = 20``; the nodes here number about :math:`(19 + 2|\log a|) / dv + 12` whatever ``a``
(127 for ``a = 0.2``, 158 for ``a = 0.01`` at ``N = 20``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from ._numba import njit

__all__ = ["leaky_terms"]

# the trapezoid step as a fraction of the narrowest Gaussian-like factor's width: the aliasing error
# exp(-2 pi^2 / 0.6^2) ~ e^-55; at most 0.3 for the strip |Im v| < pi of small widths (both checked by
# halving the step in tests/test_leaky.py: the laws move by ~1e-13 relative, far into the tails)
_STEP_FRACTION = 0.6
_MAX_STEP = 0.3
# log R within this of log a^2 or of 0 counts as equal (a term's value moves by (N/2 + z/2) * 1e-17)
_MERGE = 1e-17
# points of the Gauss rule that replaces each end's cluster of nodes (see _compress_ends)
_GAUSS = 6


def leaky_terms(width: int, slope: float, cutoff: float):
    """Cached :func:`_leaky_terms` (read-only arrays): a layer's operator, one-step tails and kernel
    functions all ask for the same mixture."""
    return _cached_terms(int(width), abs(float(slope)), min(float(cutoff), 745.0))


@functools.lru_cache(maxsize=64)
def _cached_terms(width, slope, cutoff):
    lw, ls, dropped = _leaky_terms(width, slope, cutoff)
    lw.setflags(write=False)
    ls.setflags(write=False)
    return lw, ls, dropped


def _leaky_terms(width: int, slope: float, cutoff: float):
    r"""``(log_weights, log_scales, dropped)`` of :math:`S = \sum_j W_j R_j \chi^2_N` for a leaky-relu layer.

    Parameters
    ----------
    width : int
        ``N``.
    slope : float
        ``a`` (finite, ``a^2 != 0, 1``: those are relu and linear).
    cutoff : float
        Terms with weight below ``exp(-cutoff)`` of the largest are dropped (their mass is ``dropped``;
        at most 745: below that a term underflows beside the largest).

    Returns
    -------
    log_weights, log_scales : ndarray
        :math:`\log W_j` and :math:`\log R_j`, sorted by :math:`\log R_j`; the weights sum to
        ``1 - dropped``.
    dropped : float
    """
    n = int(width)
    log_a2 = 2.0 * math.log(abs(slope))
    k = np.arange(n + 1, dtype=np.float64)
    log_binom = special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
    log_binom -= special.logsumexp(log_binom)
    ls = [log_a2, 0.0]  # the atoms K = 0 (R = a^2) and K = N (R = 1)
    lw = [log_binom[0], log_binom[n]]
    if n >= 2:
        inner = np.arange(1, n)
        keep = log_binom[inner] >= log_binom.max() - cutoff - 40.0
        kk = inner[keep].astype(np.float64)
        nodes, log_m, step = _nodes(n, kk, log_binom[inner[keep]], cutoff)
        # normalised in logs: the trapezoid sums are exact to roundoff, this removes the roundoff
        log_m += special.logsumexp(log_binom[inner[keep]]) - special.logsumexp(log_m)
        ls.extend(np.logaddexp(-np.logaddexp(0.0, -nodes), log_a2 - np.logaddexp(0.0, nodes)))
        lw.extend(log_m)
    ls, lw = np.array(ls), np.array(lw)
    # merge terms whose scale is a^2 or 1 to 1e-17 into those ends
    ls = np.where(np.abs(ls - log_a2) < _MERGE, log_a2, np.where(np.abs(ls) < _MERGE, 0.0, ls))
    order = np.argsort(ls, kind="stable")
    ls, lw = ls[order], lw[order]
    uniq, start = np.unique(ls, return_index=True)
    top = np.maximum.reduceat(lw, start)
    lw = top + np.log(np.add.reduceat(np.exp(lw - np.repeat(top, np.diff(np.append(start, lw.size)))), start))
    lw, uniq = _compress_ends(lw, uniq, log_a2, n)
    keep = lw >= lw.max() - cutoff
    dropped = float(np.sum(np.exp(lw[~keep]))) if np.any(~keep) else 0.0
    return lw[keep], uniq[keep], dropped


def _compress_ends(lw, ls, log_a2, width):
    r"""Replace the terms with :math:`\log R` within ``eps`` of an end (:math:`\log a^2` or 0) by the
    ``_GAUSS``-point Gauss rule of their discrete measure in :math:`\log R`.

    Every law read from the mixture is :math:`\sum_j W_j F(\log R_j)` with ``F`` smooth on the scale
    :math:`1 / (N/2 + z/2)` (``F`` is :math:`e^{-z e^{-r}/2 + N(x - r)/2}` up to factors, or an incomplete
    gamma function of :math:`z e^{-r}/2`), and ``z / 2`` is below ``750`` wherever a tail is above 1e-320.
    With ``eps (N/2 + 750) <= 0.05`` a rule exact for polynomials of degree ``2 * _GAUSS - 1`` errs by
    about :math:`0.05^{12} / 12! \approx 10^{-24}` of the cluster's share: the ~``80 / dv`` nodes of the
    two slowly decaying ends of ``V`` become 12.
    """
    eps = 0.05 / (0.5 * width + 750.0)
    out_w, out_s = [], []
    interior = np.ones(ls.size, dtype=bool)
    for end, other in ((log_a2, 0.0), (0.0, log_a2)):
        # each term joins the nearer end (within 1e-4 of a = 1 both ends' windows overlap)
        dist = np.abs(ls - end)
        near = interior & (dist <= eps) & (dist <= np.abs(ls - other))
        interior &= ~near
        if np.any(near):  # terms below e^-700 of the cluster's largest stay as they are (the cutoff drops them)
            faint = near & (lw < lw[near].max() - 700.0)
            interior |= faint
            near &= ~faint
        rule = _gauss_rule((ls[near] - end) / eps, lw[near], _GAUSS) if np.count_nonzero(near) > 2 * _GAUSS else None
        if rule is not None and np.all(np.isfinite(rule[0])) and not np.any(np.isnan(rule[1])):
            out_s.append(end + eps * rule[0])
            out_w.append(rule[1])
        else:
            out_s.append(ls[near])
            out_w.append(lw[near])
    ls = np.concatenate(out_s + [ls[interior]])
    lw = np.concatenate(out_w + [lw[interior]])
    order = np.argsort(ls, kind="stable")
    return lw[order], ls[order]


def _gauss_rule(x, log_w, n):
    """``(nodes, log weights)`` of the ``n``-point Gauss rule of the discrete measure ``sum_j w_j delta(x_j)``
    (``x`` in [-1, 1]; Stieltjes' recurrence for the orthogonal polynomials, then Golub-Welsch)."""
    top = float(log_w.max())
    w = np.exp(log_w - top)
    alpha, beta = np.zeros(n), np.zeros(n)
    p_prev, p = np.zeros(x.size), np.ones(x.size)
    norm_prev = 1.0
    for k in range(n):
        norm = float(w @ (p * p))
        if not norm > 0:
            return np.full(n, np.nan), np.full(n, np.nan)
        alpha[k] = float(w @ (x * p * p)) / norm
        beta[k] = norm / norm_prev if k else norm
        p_prev, p = p, (x - alpha[k]) * p - (beta[k] if k else 0.0) * p_prev
        norm_prev = norm
    jac = np.diag(alpha) + np.diag(np.sqrt(beta[1:]), 1) + np.diag(np.sqrt(beta[1:]), -1)
    if not np.all(np.isfinite(jac)):
        return np.full(n, np.nan), np.full(n, np.nan)
    nodes, vecs = np.linalg.eigh(jac)
    with np.errstate(divide="ignore"):
        return nodes, top + math.log(beta[0]) + np.log(vecs[0] ** 2)


def quadrature_step(width: int, degrees):
    """The trapezoid step ``dv``: a fraction of the narrowest of ``log chi2_N`` and the ``f_K`` (module notes)."""
    sd_t = math.sqrt(float(special.polygamma(1, 0.5 * width)))
    half = 0.5 * np.asarray(degrees, dtype=np.float64)
    sd_v = float(np.sqrt(special.polygamma(1, half) + special.polygamma(1, 0.5 * width - half)).min())
    return min(_MAX_STEP, _STEP_FRACTION * min(sd_t, sd_v))


def _log_mixture(v, kk, log_w, width):
    """``log sum_K P(K) f_K(v)`` for an array ``v`` (the density of ``V`` over ``1 <= K <= N - 1``)."""
    half = 0.5 * kk
    log_c = log_w - special.betaln(half, 0.5 * width - half)
    return _log_mixture_sum(-np.logaddexp(0.0, -v), -np.logaddexp(0.0, v), log_c, half, 0.5 * width)


@njit
def _log_mixture_sum(log_sig, log_sig_neg, log_c, half, total):
    # the terms log P(K) - log B(K/2, (N-K)/2) + K/2 log s(v) + (N-K)/2 log s(-v) are concave in K (the
    # binomial and -log B are, the rest is linear): start at the largest (its K only grows with v) and
    # walk outwards; past the peak the ratio r of neighbours only falls, so the rest is below t r / (1 - r)
    n = half.shape[0]
    out = np.empty(log_sig.shape[0])
    best = 0
    for i in range(log_sig.shape[0]):
        a, b = log_sig[i], log_sig_neg[i]
        while best + 1 < n and (log_c[best + 1] + half[best + 1] * a + (total - half[best + 1]) * b
                                >= log_c[best] + half[best] * a + (total - half[best]) * b):
            best += 1
        while best > 0 and (log_c[best - 1] + half[best - 1] * a + (total - half[best - 1]) * b
                            > log_c[best] + half[best] * a + (total - half[best]) * b):
            best -= 1
        top = log_c[best] + half[best] * a + (total - half[best]) * b
        acc = _walk_out(log_c, half, total, a, b, top, best + 1, n, 1, 1.0)
        acc = _walk_out(log_c, half, total, a, b, top, best - 1, -1, -1, acc)
        out[i] = top + math.log(acc)
    return out


@njit
def _walk_out(log_c, half, total, a, b, top, start, stop, step, acc):
    # acc plus the terms from start towards stop (exp(term - top)), until the geometric bound of the rest
    # falls below 1e-18 of the sum
    prev = 0.0
    for j in range(start, stop, step):
        t = log_c[j] + half[j] * a + (total - half[j]) * b - top
        acc += math.exp(t)
        r = math.exp(t - prev)
        prev = t
        if r < 1.0 and math.exp(t) * r / (1.0 - r) < 1e-18 * acc:
            break
    return acc


def _nodes(width, kk, log_w, cutoff, step=None):
    """Trapezoid nodes ``v_j = j dv`` (all that carry weight above ``exp(-cutoff - 45)`` of the largest)
    and their log weights ``log(dv * m(v_j))``."""
    dv = quadrature_step(width, kk) if step is None else step
    # each f_K is log-concave with its mode at log(K / (N - K)); beyond the extreme modes the
    # mixture falls at least at the rates K_min / 2 and (N - K_max) / 2 once past the curvature
    span = cutoff + 60.0
    lo_k, hi_k = float(kk.min()), float(kk.max())
    sd = math.sqrt(float(special.polygamma(1, 0.5 * lo_k) + special.polygamma(1, 0.5 * (width - lo_k))))
    lo = math.log(lo_k / (width - lo_k)) - 2.0 * span / lo_k - 10.0 * sd
    sd = math.sqrt(float(special.polygamma(1, 0.5 * hi_k) + special.polygamma(1, 0.5 * (width - hi_k))))
    hi = math.log(hi_k / (width - hi_k)) + 2.0 * span / (width - hi_k) + 10.0 * sd
    # a coarse scan finds where the mixture lives (log m is smooth on the scale of 8 steps), then the nodes
    coarse = np.linspace(lo, hi, max(3, int(math.ceil((hi - lo) / (8.0 * dv))) + 1))
    log_m = _log_mixture(coarse, kk, log_w, width)
    live = np.nonzero(log_m >= log_m.max() - cutoff - 60.0)[0]
    lo = coarse[max(live[0] - 1, 0)]
    hi = coarse[min(live[-1] + 1, coarse.size - 1)]
    j = np.arange(math.floor(lo / dv), math.ceil(hi / dv) + 1)
    v = j * dv
    log_m = _log_mixture(v, kk, log_w, width) + math.log(dv)
    live = log_m >= log_m.max() - cutoff - 45.0
    return v[live], log_m[live], dv
