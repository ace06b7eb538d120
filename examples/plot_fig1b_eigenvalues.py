"""
Fig. 1b (Burkholz & Dubatovka 2019): eigenvalues λ_m of the transition operator
===============================================================================

For :math:`\\sigma_b = 0` the transition operator :math:`T` of a layer maps :math:`f_m(y) = y^m` to
:math:`\\lambda_m f_m` with :math:`\\lambda_m = E[(\\sigma_w^2 S)^{-(m+1)}; S > 0]` (eq. 8, corrected: see
the errata), where :math:`S` is the squared norm a layer produces from :math:`y = 1`.
:func:`sigdist.mellin_eigenvalue` computes it exactly; :func:`sigdist.critical_window` gives the interval
where :math:`\\lambda_m < 1` (for He: :math:`m_{crit} = -2` at every width). The Monte Carlo points
estimate the same expectation from one real layer's outputs.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 2000 if QUICK else 50000

fig, ax = plt.subplots(figsize=(7, 4))
m = np.linspace(-3.2, -0.6, 200)
for N, color in [(10, "C0"), (50, "C1"), (200, "C2")]:
    layer = sigdist.Layer(N, 2.0 / N)  # He: sigma_w^2 = 2 / N
    lam = [sigdist.mellin_eigenvalue(layer, mi) for mi in m]
    ax.plot(m, lam, color=color, label=f"exact, N = {N}")
    window = sigdist.critical_window(layer)
    print(f"N = {N}: critical window m_crit = {window.m_crit:.6f}, m_upper = {window.m_upper:.6f}")
    # Monte Carlo: z = |x_1|^2 from y = 1 is sigma_w^2 S, so lambda_m = E[z^-(m+1); z > 0]
    z = dense_squared_norms(sigdist.Network([layer]), np.eye(N)[0], n_networks, seed=N)[:, 0]
    mc_m = np.array([-3.0, -2.5, -2.0, -1.5, -1.0])
    vals = np.array([np.where(z > 0, z, np.inf) ** (-(mi + 1)) for mi in mc_m])
    vals[~np.isfinite(vals)] = 0.0
    ax.errorbar(mc_m, vals.mean(axis=1), yerr=2 * vals.std(axis=1) / np.sqrt(n_networks), fmt="o",
                color=color, ms=4)
ax.errorbar([], [], yerr=[], fmt="ko", ms=4, label=f"Monte Carlo (n = {n_networks}), ±2 s.e.")
ax.axhline(1.0, color="grey", lw=0.8)
ax.axvline(-2.0, color="grey", lw=0.8, ls=":")
ax.set_yscale("log")
ax.set_xlabel("m")
ax.set_ylabel(r"$\lambda_m$")
ax.set_title(r"He layers: $\lambda_m < 1$ on the critical window, $m_{crit} = -2$")
ax.legend()
