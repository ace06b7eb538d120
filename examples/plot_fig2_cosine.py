"""
Fig. 2 (Burkholz & Dubatovka 2019): the cosine of two inputs after one layer
=============================================================================

Two inputs with :math:`|x_1|^2 = |x_2|^2 = 1` and cosine :math:`\\rho` pass one He layer of width
:math:`N`. Mean field gives the c-map value :func:`sigdist.c_map`; at finite width the cosine is random,
its mean shifted by :math:`O(1/N)` (:func:`sigdist.mean_cosine`: ``first_order``). The histograms are
the exact reduced sampler (:func:`sigdist.pair_samples`, Prop. 2: exact in law); the dots, real dense
networks applied to two inputs.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 20000 if QUICK else 1000000
N = 100
layer = sigdist.Layer(N, 2.0 / N)

fig, ax = plt.subplots(figsize=(7, 4))
for rho, color in zip([0.0, 0.25, 0.5, 0.75], ["C0", "C1", "C2", "C3"]):
    samples = sigdist.pair_samples(sigdist.Network([layer]), 1.0, 1.0, rho, n_networks=n_networks, seed=1)
    cos = samples.cosines[:, 0]
    cos = cos[np.isfinite(cos)]
    ax.hist(cos, bins=80, density=True, histtype="step", color=color, label=f"input cosine {rho}")
    exact = sigdist.mean_cosine(layer, 1.0, 1.0, rho)
    ax.axvline(exact.first_order, color=color, ls="--")
    print(f"rho = {rho}: c-map {sigdist.c_map(rho):.5f}, mean to O(1/N) {exact.first_order:.5f}, "
          f"sampled mean {samples.cosine_mean[0]:.5f} +- {samples.cosine_mean_se[0]:.5f}")
ax.plot([], [], "k--", label="mean to first order in 1/N (mean_cosine)")
ax.set_xlabel("cosine after one layer")
ax.set_ylabel("density")
ax.set_title(f"One He layer of width {N}: sampled law (n = {n_networks}) and exact mean")
ax.legend()
