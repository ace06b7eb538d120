"""
Cosine similarity after L layers
================================

*How similar do two inputs look after L layers of my network?* The mean-field answer iterates the c-map
(:func:`sigdist.mean_field_cosines`); at finite width every layer adds an :math:`O(1/N)` shift and the
cosine is random. :func:`sigdist.pair_samples` samples the pair state exactly at any width and depth
(Prop. 2: exact in law, O(N) work per layer); real dense networks confirm it.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 2000 if QUICK else 50000
depth = 10 if QUICK else 30
rho0 = 0.5

fig, ax = plt.subplots(figsize=(7, 4))
layers = np.arange(1, depth + 1)
mean_field = sigdist.mean_field_cosines(sigdist.Network.he([200] * (depth + 1)), 1.0, 1.0, rho0)
ax.plot(layers, mean_field, "k-", label="mean field (c-map iterated)")
for N, color in [(10, "C0"), (50, "C1"), (200, "C2")]:
    net = sigdist.Network.he([N] * (depth + 1))
    s = sigdist.pair_samples(net, 1.0, 1.0, rho0, n_networks=n_networks, seed=N)
    ax.errorbar(layers, s.cosine_mean, yerr=2 * s.cosine_mean_se, color=color, fmt="o-", ms=3,
                label=f"N = {N}: mean cosine, exact sampler ±2 s.e.")
    q = np.nanquantile(s.cosines, [0.1, 0.9], axis=0)
    ax.fill_between(layers, q[0], q[1], color=color, alpha=0.15)
    print(f"N = {N}: mean cosine at layer {depth} = {s.cosine_mean[-1]:.4f} +- {s.cosine_mean_se[-1]:.4f} "
          f"(mean field {mean_field[-1]:.4f}); 10%-90% band {np.round(q[:, -1], 3)}")

# one real check: dense networks of width 10 applied to two inputs with cosine 0.5.
rng = np.random.default_rng(0)
N, n_real = 10, (500 if QUICK else 5000)
x1 = np.zeros(N); x1[0] = 1.0
x2 = np.zeros(N); x2[0] = rho0; x2[1] = np.sqrt(1 - rho0**2)
cos_real = []
for _ in range(n_real):
    a, b = x1, x2
    for _ in range(depth):
        W = rng.standard_normal((N, N)) * np.sqrt(2.0 / N)
        a, b = np.maximum(W @ a, 0), np.maximum(W @ b, 0)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na > 0 and nb > 0:
        cos_real.append(a @ b / (na * nb))
cos_real = np.array(cos_real)
se = cos_real.std() / np.sqrt(cos_real.size)
ax.errorbar([depth + 0.3], [cos_real.mean()], yerr=[2 * se], fmt="s", color="C0", mfc="white",
            label=f"N = 10: real dense networks (n = {n_real})")
print(f"real networks, N = 10, layer {depth}: {cos_real.mean():.4f} +- {se:.4f}")
ax.set_xlabel("layer l")
ax.set_ylabel("cosine of the two signals")
ax.set_title(f"Input cosine {rho0}, He networks: finite width vs mean field")
ax.legend(fontsize=8)
