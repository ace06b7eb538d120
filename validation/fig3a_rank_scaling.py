"""Fig. 3a of Daneshmand et al. (2020): the long-run average of r(H) and of the soft rank of the linear BN
chain against the width d, and the exponent of d (Theorem 2 says Omega(sqrt d)).

    python validation/fig3a_rank_scaling.py [--quick] [--steps 5000] [--out fig3a_rank_scaling.png]

For each gamma in {0.1, 0.5, 1, inf} and d in {8, ..., 256} (8..32 with --quick), RankChain runs 4
independent chains (batch N = d, Gaussian H_0 and weights) for --steps layers after a burn-in of a tenth,
and reports E[r(H)] and E[rank_1/2(H)] with batch-means standard errors. The exponent b of E[r] ~ d^b is
a weighted least-squares fit of log E[r] on log d; its 95% interval uses the fit's residual scatter
(t quantile with n - 2 dof) when that exceeds the Monte Carlo error. Also the regime N = d/4 < d that the
paper leaves open. Checks: Lemma 1 holds at every recorded step; E[r] grows with d for every gamma; the
fitted exponent and whether its interval lies above 1/2 are printed (a finding, not an assertion).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from scipy import stats

from sigdist import Network
from sigdist.rank_chain import RankChain


def fit_exponent(d, mean, se):
    """Slope of log mean on log d (weighted), its standard error and 95% interval."""
    x, y = np.log(d), np.log(mean)
    w = (mean / se) ** 2
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * y)
    dof = len(x) - 2
    if dof > 0:
        chi2 = float(np.sum(w * (y - X @ beta) ** 2)) / dof
        cov = cov * max(1.0, chi2)  # model misfit beyond the Monte Carlo error widens the interval
        q = stats.t.ppf(0.975, dof)
    else:
        q = 1.96
    slope, slope_se = float(beta[1]), math.sqrt(cov[1, 1])
    return slope, slope_se, (slope - q * slope_se, slope + q * slope_se)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", default="fig3a_rank_scaling.png")
    args = ap.parse_args(argv)
    widths = [8, 16, 32] if args.quick else [8, 16, 32, 64, 128, 256]
    gammas = [0.5, math.inf] if args.quick else [0.1, 0.5, 1.0, math.inf]
    steps = args.steps or (600 if args.quick else 5000)
    burn = steps // 10
    ok = True
    rows = []
    print(f"{'gamma':>6} {'N':>6} {'d':>5} {'E[r]':>9} {'s.e.':>8} {'E[rank]':>9} {'s.e.':>8} {'tau_int':>8} "
          f"{'E[r]/sqrt d':>11}")
    configs = [(g, "d") for g in gammas] + [(g, "d/4") for g in ([math.inf] if args.quick else [0.5, math.inf])]
    for gamma, batch_rule in configs:
        means, ses, smeans, sses = [], [], [], []
        for i, d in enumerate(widths):
            n = d if batch_rule == "d" else max(1, d // 4)
            res = RankChain(Network.bn_chain(d, gamma=gamma), n_networks=4, batch=n, seed=1000 * i + 7).run(
                steps, burn_in=burn, tau=0.5, progress=False)
            ok &= res.lemma1_violations == 0
            means.append(res.r_mean)
            ses.append(res.r_mean_se)
            smeans.append(res.soft_rank_mean)
            sses.append(res.soft_rank_mean_se)
            print(f"{gamma:>6g} {batch_rule:>6} {d:>5} {res.r_mean:>9.4f} {res.r_mean_se:>8.1e} {res.soft_rank_mean:>9.3f} "
                  f"{res.soft_rank_mean_se:>8.1e} {res.tau_int_r:>8.1f} {res.r_mean / math.sqrt(d):>11.4f}")
        means, ses = np.array(means), np.array(ses)
        ok &= bool(np.all(np.diff(means) > 0))
        slope, slope_se, ci = fit_exponent(np.array(widths, float), means, ses)
        s_slope, _, s_ci = fit_exponent(np.array(widths, float), np.array(smeans), np.maximum(sses, 1e-3))
        verdict = "above 1/2" if ci[0] > 0.5 else ("below 1/2" if ci[1] < 0.5 else "includes 1/2")
        print(f"   gamma={gamma:g}, N={batch_rule}: E[r] ~ d^{slope:.3f} (95% CI {ci[0]:.3f}..{ci[1]:.3f}, {verdict}); "
              f"E[rank_1/2] ~ d^{s_slope:.3f} (95% CI {s_ci[0]:.3f}..{s_ci[1]:.3f})")
        rows.append((gamma, batch_rule, means, ses, np.array(smeans)))
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for gamma, batch_rule, means, ses, smeans in rows:
        label = f"gamma={gamma:g}" + ("" if batch_rule == "d" else ", N=d/4")
        ls = "-" if batch_rule == "d" else "--"
        ax1.errorbar(widths, means, yerr=2 * ses, marker="o", ls=ls, label=label)
        ax2.plot(widths, smeans, marker="o", ls=ls, label=label)
    for ax, name in ((ax1, "long-run E[r(H)]"), (ax2, "long-run E[rank_1/2(H)]")):
        ax.plot(widths, np.sqrt(widths), "k:", label="sqrt(d)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("width d")
        ax.set_ylabel(name)
    ax1.legend(fontsize=7)
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
