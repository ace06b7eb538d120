"""
The q-map of a tanh network at finite width (Poole et al. 2016)
===============================================================

Mean field tracks the pre-activation variance :math:`q_l` of a tanh network by the q-map
:math:`q_l = c\\, E[\\tanh(\\sqrt{q_{l-1}} g)^2] + \\sigma_b^2`, :math:`g \\sim N(0, 1)`, with
:math:`\\sigma_w^2 = c / N`. At width :math:`N` the exact :math:`q_l = \\sigma_w^2 E|x_{l-1}|^2 + \\sigma_b^2`
comes from sigdist's laws of any activation (:func:`sigdist.layer_laws`, Fourier route), and differs from
the map by :math:`O(1/N)`: the map is curved and :math:`|x|^2` fluctuates. Real dense networks sample it.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist import Layer, Network
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
depth = 6 if QUICK else 20
n_networks = 2000 if QUICK else 20000
c, sigma_b2 = 1.5, 0.05  # the ordered phase

g, w = np.polynomial.hermite_e.hermegauss(80)
w = w / w.sum()
q_mf = [1.0]  # q_1, q_2, ..., q_depth
for _ in range(depth - 1):
    q_mf.append(c * (w @ np.tanh(np.sqrt(q_mf[-1]) * g) ** 2) + sigma_b2)

fig, ax = plt.subplots(figsize=(7, 4))
layers = np.arange(1, depth + 1)
ax.plot(layers, q_mf, "k-", label="mean-field q-map")
for N, color in [(20, "C1"), (100, "C2")]:
    net = Network([Layer(N, c / N, sigma_b2=sigma_b2, activation="tanh")] * depth)
    y0 = N * (1.0 - sigma_b2) / c  # so that q_1 = sigma_w^2 |x_0|^2 + sigma_b^2 = 1
    laws = sigdist.layer_laws(net, y0)
    q = [c / N * y0 + sigma_b2] + [c / N * law.mean() + sigma_b2 for law in laws[:-1]]  # q_1..q_depth
    ax.plot(layers, q, "-", color=color, label=f"exact, N = {N}")
    z = dense_squared_norms(net, np.full(N, np.sqrt(y0 / N)), n_networks, seed=N)
    q_mc = c / N * z[:, :-1] + sigma_b2
    ax.errorbar(layers[1:], q_mc.mean(axis=0), yerr=2 * q_mc.std(axis=0) / np.sqrt(n_networks), fmt="o",
                ms=3, color=color)
    print(f"N = {N}: q_{depth} = {q[-1]:.5f} (mean field {q_mf[-1]:.5f}), "
          f"N |q - q_mf| = {N * abs(q[-1] - q_mf[-1]):.4f}; "
          f"largest error estimate {max(law.error_estimate for law in laws):.1e}")
ax.plot([], [], "ko", ms=3, label=f"Monte Carlo (n = {n_networks}), ±2 s.e.")
ax.set_xlabel("layer l")
ax.set_ylabel(r"$q_l$")
ax.set_title(f"tanh, c = {c}, sigma_b^2 = {sigma_b2}: finite width vs the q-map")
ax.legend(fontsize=8)
