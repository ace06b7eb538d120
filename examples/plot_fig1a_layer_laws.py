"""
Fig. 1a (Burkholz & Dubatovka 2019): the law of the squared norm, layer by layer
================================================================================

A He network (:math:`\\sigma_w^2 = 2/N`, no bias, relu) of width :math:`N = 200` and input norm
:math:`|x_0|^2 = 1`. Mean field says :math:`|x_l|^2 = 1` at every layer; at finite width the law of
:math:`z_l = |x_l|^2` keeps its mean 1 but widens and grows a heavier right tail with depth.
:func:`sigdist.layer_laws` gives every layer's exact law; real dense networks
(:func:`sigdist.montecarlo.dense_squared_norms`) sample it.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 300 if QUICK else 5000

net = sigdist.Network.he([200] * 10)  # widths N_0..N_9: nine relu layers of width 200
laws = sigdist.layer_laws(net, y0=1.0)  # laws[l - 1] is the law of |x_l|^2
x0 = np.ones(200) / np.sqrt(200)  # an input with |x_0|^2 = 1
samples = dense_squared_norms(net, x0, n_networks, seed=0)  # shape (n_networks, 9)

fig, ax = plt.subplots(figsize=(7, 4))
z = np.linspace(0.2, 2.5, 400)
for l, color in zip([1, 3, 5, 9], ["C0", "C1", "C2", "C3"]):
    ax.plot(z, laws[l - 1].pdf(z), color=color, label=f"exact, layer {l}")
    ax.hist(samples[:, l - 1], bins=40, range=(0.2, 2.5), density=True, histtype="step", color=color,
            alpha=0.6, linestyle="--")
ax.plot([], [], "k--", alpha=0.6, label=f"Monte Carlo (n = {n_networks})")
ax.set_xlabel(r"$z = |x_l|^2$")
ax.set_ylabel("density")
ax.legend()
ax.set_title("He network, width 200: the law widens with depth")

# %%
# The numbers: the mean stays 1, the spread grows about linearly in depth over width.
for l in [1, 3, 5, 9]:
    law = laws[l - 1]
    print(f"layer {l}: mean {law.mean():.4f} (MC {samples[:, l - 1].mean():.4f}), "
          f"std {law.std():.4f} (MC {samples[:, l - 1].std():.4f}), "
          f"95% interval {np.round(law.interval(0.95), 3)}, error estimate {law.error_estimate:.1e}")
