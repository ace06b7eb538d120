"""
Fig. 2a (Hanin & Rolnick 2018): the mean length of residual networks
=====================================================================

A residual network :math:`x_l = x_{l-1} + \\eta_l \\mathcal N_l(x_{l-1})` of width 5, each module one relu
hidden layer of width 5 and a linear read-out, He weights, no biases. The mean length
:math:`E[M_L] = M_0 \\prod_l (1 + 2\\eta_l^2)` (:func:`sigdist.residual_length_moments`, exact) stays
bounded in depth exactly when :math:`\\sum_l \\eta_l^2` converges: scales :math:`\\eta_l = b^l` keep it,
:math:`\\eta_l = 1` does not. Real residual networks (numpy) sample it.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist.residual_lengths import linear_readout_residual

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 4000 if QUICK else 40000
depth = 12 if QUICK else 30
width = 5


def real_residual_lengths(etas, n, seed):
    """M_l = |x_l|^2 / width of n real networks x + eta W2 relu(W1 x), He weights, |x_0|^2 = width."""
    rng = np.random.default_rng(seed)
    x = np.ones((n, width))
    out = np.empty((n, len(etas)))
    for l, eta in enumerate(etas):
        w1 = rng.standard_normal((n, width, width)) * np.sqrt(2.0 / width)
        w2 = rng.standard_normal((n, width, width)) * np.sqrt(2.0 / width)
        h = np.maximum(np.einsum("bij,bj->bi", w1, x), 0.0)
        x = x + eta * np.einsum("bij,bj->bi", w2, h)
        out[:, l] = (x * x).sum(axis=1) / width
    return out


fig, ax = plt.subplots(figsize=(7, 4))
layers = np.arange(1, depth + 1)
for label, etas, color in [("eta = 1", np.ones(depth), "C0"), ("eta = 0.9^l", 0.9 ** layers, "C1"),
                           ("eta = 0.75^l", 0.75 ** layers, "C2"), ("eta = 0.5^l", 0.5 ** layers, "C3")]:
    exact = sigdist.residual_length_moments(linear_readout_residual(width, [width], list(etas)))
    ax.semilogy(layers, exact.length_mean, "-", color=color, label=f"exact, {label}")
    M = real_residual_lengths(etas, n_networks, seed=int(100 * etas[-1]) + 1)
    checked = layers[layers <= 6]  # deeper, the naive mean is dominated by rare networks
    se = M[:, checked - 1].std(axis=0) / np.sqrt(n_networks)
    ax.errorbar(checked, M[:, checked - 1].mean(axis=0), yerr=2 * se, fmt="o", ms=3, color=color)
    z = (M[:, 5].mean() - exact.length_mean[5]) / se[-1]
    print(f"{label}: exact E[M_{depth}] = {exact.length_mean[-1]:.4g}; at L = 6 exact {exact.length_mean[5]:.4f}, "
          f"Monte Carlo {M[:, 5].mean():.4f} (z = {z:+.2f})")
ax.plot([], [], "ko", ms=3, label=f"Monte Carlo (n = {n_networks}), ±2 s.e.")
ax.set_xlabel("number of residual modules L")
ax.set_ylabel(r"$E[M_L] / M_0$")
ax.legend(fontsize=8)
ax.set_title("Residual width 5: bounded iff the sum of eta^2 converges")
