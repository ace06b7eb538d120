"""
Fig. 3a (Daneshmand et al. 2020): the rank of the BN chain against the width
============================================================================

The linear batch-norm chain :math:`H_{l} = \\mathrm{BN}(W_l H_{l-1})` (with residual strength
:math:`\\gamma`: :meth:`sigdist.Network.bn_chain`) has a stationary regime whose long-run mean of the rank
bound :math:`r(H)` Theorem 2 bounds below by :math:`\\Omega(\\sqrt d)`. There is no closed form for the
mean itself: :class:`sigdist.RankChain` runs many seeded chains and reports it with a batch-means
standard error, and the fitted exponent :math:`b` of :math:`E[r] \\sim d^b` is compared with the
theorem's :math:`1/2`.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist import Network

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
widths = np.array([8, 16, 32] if QUICK else [8, 16, 32, 64])
n_steps = 1000 if QUICK else 3000

fig, ax = plt.subplots(figsize=(7, 4))
for gamma, color in [(0.1, "C0"), (0.5, "C1"), (np.inf, "C2")]:
    means, ses = [], []
    for d in widths:
        res = sigdist.RankChain(Network.bn_chain(int(d), gamma=gamma), n_networks=4, seed=int(d)).run(
            n_steps, burn_in=n_steps // 10, progress=False)
        means.append(res.r_mean)
        ses.append(res.r_mean_se)
    means, ses = np.array(means), np.array(ses)
    b, a = np.polyfit(np.log(widths), np.log(means), 1, w=means / ses)
    ax.errorbar(widths, means, yerr=2 * ses, fmt="o-", ms=4, color=color,
                label=f"gamma = {gamma}: RankChain ±2 s.e., fitted exponent {b:.2f}")
    print(f"gamma = {gamma}: E[r(H)] = {np.round(means, 3)} +- {np.round(ses, 3)}; E[r] ~ d^{b:.3f}")
ax.plot(widths, np.sqrt(widths), "k--", label=r"$\sqrt{d}$ (Theorem 2's order)")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("width d (batch N = d)")
ax.set_ylabel("long-run E[r(H)]")
ax.legend(fontsize=8)
