"""The input-output Jacobian of random networks: exact |Ju|^2 laws and spectra against real networks (issue 17).

    python validation/jacobian_spectra.py [--quick] [--out jacobian_spectra.png] [--device auto]

1. The exact law of |J u|^2 (sigdist.jacobian.jvp_law) against torch autograd (forward mode) of real
   networks: KS p-value of the positive part and the atom's z-score, He N = 5, L = 3 (u orthogonal to x0
   and at cosine 0.7) and a network with biases and a leaky layer.
2. Spectral moments (1/N_0) tr((J^T J)^k), k = 1, 2: real networks (torch) against the exact finite-width
   formulas and the infinite-width free-probability values, for He, GSM, looks-linear orthogonal,
   orthogonal relu (sigma_w^2 = 2/N, weight_law="orthogonal"), critical tanh with Gaussian and with orthogonal
   weights at the fixed point q* = 0.5 (N sigma_w^2 = 1/E[tanh'(h)^2] = 1.688, sigma_b^2 = 0.038, the input
   at |x_0|^2 with q* as its first pre-activation variance).
3. The paper's isometry claim: the largest |s^2 - 2| over the nonzero squared singular values of
   looks-linear networks, against depth; the spectral variance m_2 - m_1^2 of He and GSM against depth and
   width (exact).
4. Figure: histograms of the squared singular values at depth 10 and 100 beside the infinite-width densities.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys

import numpy as np
from scipy import stats

from sigdist import Layer, Network
from sigdist import jacobian as jac
from sigdist.free_probability import free_jacobian_law


def _ks_positive(samples, law):
    atom = law.atom
    pos = samples[samples > 0]
    p = stats.kstest(pos, lambda z: (law.cdf(z) - atom) / (1.0 - atom)).pvalue
    z_atom = (np.mean(samples == 0) - atom) / math.sqrt(atom * (1 - atom) / samples.size)
    return p, z_atom


Q_STAR = 0.5


def _critical_tanh(width, depth, q=Q_STAR):
    """Tanh layers at the fixed point q of the mean-field length map with chi = N sigma_w2 E[tanh'(h)^2] = 1."""
    law = free_jacobian_law(1, "tanh", preactivation_variance=q)
    sigma2 = law.sigma2
    z, w = np.polynomial.hermite_e.hermegauss(160)
    mean_t2 = float(w @ np.tanh(math.sqrt(q) * z) ** 2 / math.sqrt(2 * math.pi))
    sigma_b2 = q - sigma2 * mean_t2
    return Network.constant(width, depth, sigma2 / width, sigma_b2, "tanh"), (q - sigma_b2) * width / sigma2


def _networks(width, depth):
    """Name -> (network, y0)."""
    return {
        "he": (Network.he([width] * (depth + 1)), 1.0),
        "gsm": (Network.gsm([width] * (depth + 1)), 1.0),
        "looks_linear": (Network.looks_linear([width] * (depth + 1)), 1.0),
        "tanh": _critical_tanh(width, depth),
        "orthogonal": (Network([Layer(width, 2.0 / width, 0.0, "relu", weight_law="orthogonal")] * depth, width), 1.0),
        "tanh_orthogonal": _orthogonal(*_critical_tanh(width, depth)),
    }


def _orthogonal(net, y0):
    return Network([dataclasses.replace(layer, weight_law="orthogonal") for layer in net], net.input_width), y0


def _infinite(name, depth):
    """Infinite-width (m_1, m_2) of (1/N_0) tr((J^T J)^k) and the density's law (None where not built)."""
    if name == "he":
        law = free_jacobian_law(depth, "relu")
        return law.exact_moments(), law
    if name == "gsm":  # J^T J = 2 P^T P on half the directions, P a product of Gaussian matrices
        law = free_jacobian_law(depth)
        m1, m2 = law.exact_moments()
        return (m1, 2.0 * m2), law
    if name == "looks_linear":
        return (1.0, 2.0), None
    if name == "orthogonal":
        law = free_jacobian_law(depth, "relu", "orthogonal")
        return law.exact_moments(), law
    weights = "orthogonal" if name == "tanh_orthogonal" else "gaussian"
    law = free_jacobian_law(depth, "tanh", weights, preactivation_variance=Q_STAR)
    return law.exact_moments(), law


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="jacobian_spectra.png")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args(argv)
    ok = True

    print("1. |J u|^2: exact law against autograd of real networks (KS p of the positive part, atom z-score)")
    n = 20_000 if args.quick else 200_000
    biased = Network([Layer(5, 2 / 5, 0.3), Layer(4, 0.6, 0.5, "leaky_relu", negative_slope=0.2),
                      Layer(6, 0.5, 0.1)], input_width=5)
    for label, net, y0, u_cos in (("He N=5 L=3, u orthogonal", Network.he([5] * 4), 1.0, 0.0),
                                  ("He N=5 L=3, u_cos=0.7", Network.he([5] * 4), 1.0, 0.7),
                                  ("bias + leaky, u_cos=0.5", biased, 2.0, 0.5)):
        law = jac.jvp_law(net, y0, u_cos=u_cos)
        y, u2 = jac.jvp_monte_carlo(net, n, y0=y0, u_cos=u_cos, seed=1, device=args.device)
        p, z = _ks_positive(u2, law)
        py, _ = _ks_positive(y / y0, law) if label.startswith("He") else (math.nan, 0)
        ok &= p > 1e-3 and abs(z) < 4
        print(f"  {label:28s} n = {n}: KS p = {p:.3f}, atom z = {z:+.2f}; |x_L|^2/|x_0|^2 vs the same law: "
              f"p = {py:.3f}")

    print("2. spectral moments (1/N0) tr((J^T J)^k): Monte Carlo (se) | exact finite width | infinite width")
    width = 32 if args.quick else 100
    depths = (10,) if args.quick else (10, 100)
    n_networks = 200 if args.quick else 500
    spectra = {}
    for depth in depths:
        for name, (net, y0) in _networks(width, depth).items():
            mc = jac.jacobian_spectrum(net, n_networks, y0=y0, seed=depth, device=args.device)
            spectra[(name, depth)] = mc
            try:
                exact = jac.spectral_moments(net)
                e1, e2 = exact.first_moment[-1], exact.second_moment[-1]
                z2 = (mc.second_moment - e2) / mc.second_moment_se if mc.second_moment_se > 0 else 0.0
                # at depth 100 the moments are carried by rare networks: the sample's standard error is not a
                # guide there (the exact value is printed beside it), so only depth 10 is a check
                ok &= depth > 10 or abs(z2) < 5 or name == "looks_linear" and abs(mc.second_moment - e2) < 1e-9
            except ValueError:
                e1 = e2 = math.nan
            (i1, i2), _ = _infinite(name, depth)
            print(f"  {name:12s} N={width} L={depth:3d}: m1 = {mc.first_moment:.4f} ({mc.first_moment_se:.4f}) "
                  f"| {e1:.4f} | {i1:.4f};  m2 = {mc.second_moment:.4f} ({mc.second_moment_se:.4f}) | {e2:.4f} "
                  f"| {i2:.4f}   [{mc.device}]")

    print("3. isometry: looks-linear max |s^2 - 2| over the N0/2 nonzero squared singular values; "
          "He / GSM spectral variance m2 - m1^2 (exact)")
    for depth in ((1, 10, 50) if args.quick else (1, 10, 100, 300)):
        s = jac.jacobian_spectrum(Network.looks_linear([16] * (depth + 1)), 20, seed=0, device=args.device)
        top = s.squared_singular_values[:, :8]
        rest = s.squared_singular_values[:, 8:]
        dev = float(np.max(np.abs(top - 2.0)))
        ok &= dev < 1e-10 and float(np.max(rest)) < 1e-10
        print(f"  looks-linear N=16 L={depth:3d}: max |s^2 - 2| = {dev:.2e}, max of the other half = "
              f"{float(np.max(rest)):.2e}")
    for w in (10, 100, 1000):
        row = []
        for depth in (1, 10, 100):
            he = jac.spectral_moments(Network.he([w] * (depth + 1)))
            gsm = jac.spectral_moments(Network.gsm([w] * (depth + 1)))
            row.append(f"L={depth}: He {he.second_moment[-1] - he.first_moment[-1] ** 2:8.3f}, "
                       f"GSM {gsm.second_moment[-1] - gsm.first_moment[-1] ** 2:8.3f}")
        print(f"  N={w:5d}  " + "; ".join(row))
    print("  infinite width: He 2L, GSM 2L + 1 (looks-linear: 1 at every depth and width, from its atom at 0)")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        names = ("he", "gsm", "looks_linear", "tanh", "orthogonal", "tanh_orthogonal")
        fig, axes = plt.subplots(len(depths), len(names), figsize=(24, 3.6 * len(depths)), squeeze=False)
        for row, depth in enumerate(depths):
            for col, name in enumerate(names):
                ax = axes[row][col]
                s_all = spectra[(name, depth)].squared_singular_values.ravel()
                s = np.log10(s_all[s_all > 1e-12])  # log axis (the densities pile up at 0); mass = share above 1e-12
                _, law = _infinite(name, depth)
                scale = 2.0 if name == "gsm" else 1.0
                lo, hi = (s.min(), s.max()) if np.ptp(s) > 1e-6 else (s.min() - 0.5, s.max() + 0.5)
                ax.hist(s, bins=80, range=(lo, hi), weights=np.full(s.size, 80.0 / (s_all.size * (hi - lo))),
                        alpha=0.5, label=f"Monte Carlo (N = {width})")
                if law is not None:
                    t = np.linspace(lo, hi, 400)
                    x = 10.0 ** t
                    ax.plot(t, law.pdf(x / scale) / scale * x * math.log(10.0), "k-", lw=1, label="infinite width")
                ax.set_xlabel("log10 s^2")
                ax.set_title(f"{name}, L = {depth} (nonzero s^2)")
                ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.out, dpi=100)
        print(f"figure: {args.out}")
    print("all checks pass" if ok else "SOME CHECKS FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
