"""
When does the mean-field picture fail at width N?
=================================================

Mean field (infinite width) says a He network preserves :math:`|x_l|^2` exactly: every layer gives
:math:`z_l = z_0`. At width :math:`N` the law of :math:`z_l / z_0` spreads, and its spread is governed by
the ratio depth / width: :math:`\\mathrm{Var}(z_l)/z_0^2 \\approx \\exp(5 l / N) - 1` (Hanin & Rolnick's
:math:`\\sum_j 1/n_j`). The exact laws give the whole picture: the band that holds 90% of the networks,
and how far the median drifts below the mean. Mean field is a fair summary while the band is narrow:
when :math:`l / N` is small; by :math:`l \\approx N/2` the typical network is far from it.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 300 if QUICK else 5000
depth = 20 if QUICK else 50

fig, ax = plt.subplots(figsize=(7, 4))
for N, color in [(10, "C0"), (30, "C1"), (100, "C2")]:
    net = sigdist.Network.he([N] * (depth + 1))
    laws = sigdist.layer_laws(net, 1.0)
    ratio = np.arange(1, depth + 1) / N
    q = np.array([law.ppf([0.05, 0.5, 0.95]) for law in laws])
    ax.fill_between(ratio, q[:, 0], q[:, 2], color=color, alpha=0.2)
    ax.plot(ratio, q[:, 1], color=color, label=f"N = {N}: exact median, 5%-95% band")
    z = dense_squared_norms(net, np.ones(N) / np.sqrt(N), n_networks, seed=N)
    mq = np.quantile(z, [0.05, 0.5, 0.95], axis=0)
    ax.plot(ratio, mq[1], ".", color=color, ms=4)
    ax.plot(ratio, mq[0], "_", color=color)
    ax.plot(ratio, mq[2], "_", color=color)
    half = laws[min(depth, N // 2) - 1]
    print(f"N = {N}: at l = {min(depth, N // 2)} the 5%-95% band of z_l/z_0 is {np.round(half.ppf([0.05, 0.95]), 3)}, "
          f"P(z_l < z_0/2) = {half.cdf(0.5):.3f}")
ax.axhline(1.0, color="k", lw=1, label="mean field: z_l = z_0")
ax.plot([], [], "k.", label=f"Monte Carlo (n = {n_networks}) quantiles")
ax.set_yscale("log")
ax.set_xlabel("depth / width  l / N")
ax.set_ylabel(r"$z_l / z_0$")
ax.set_title("He networks: the spread is a function of l / N")
ax.legend(fontsize=8)
