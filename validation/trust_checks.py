"""The audit cases of the 'no silent wrong answer' issue, before and after: each line prints what
sigdist returns, the exact value, and the time.

    python validation/trust_checks.py

The far-tail references against independent mpmath values are in tests/test_reference_tails.py
(``python validation/check_reference_tails.py`` prints the worst relative error per group).
"""

import math
import time
import warnings

from scipy import special, stats

import sigdist
from sigdist import Network


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def main():
    warnings.simplefilter("ignore", sigdist.SigdistWarning)
    rows = []
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(1, 81, 1.0), 1.0))
    rows.append(("relu N=1 L=81: E z", law.mean(), 0.5**81, t))
    rows.append(("relu N=1 L=81: E z^2", law.moment(2), 1.5**81, t))
    for n, depth in [(4, 200), (8, 300), (20, 1000)]:
        law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(n, depth, 2 / n), 1.0))
        rows.append((f"He N={n} L={depth}: log E z^2", law.log_moment(2)[0], depth * math.log(1 + 5 / n), t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(10, 2, 0.2), input_law=stats.halfcauchy()))
    rows.append(("halfcauchy input: E z", law.mean(), math.inf, t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(1, 1, 1.0, activation="linear"), 1.0))
    rows.append(("linear N=1 L=1: ppf(1e-15)", float(law.ppf(1e-15)), stats.chi2(1).ppf(1e-15), t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(10, 1, 1.0, activation="linear"), 1.0))
    rows.append(("linear N=10 L=1: ppf(1e-15)", float(law.ppf(1e-15)), stats.chi2(10).ppf(1e-15), t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(1, 1, 1.0), 1.0))
    rows.append(("relu N=1: cdf_continuous(1e-24)", float(law.cdf_continuous(1e-24)),
                 0.5 * special.gammainc(0.5, 0.5e-24), t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.he([50] * 6), 1.0))
    rows.append(("He N=50 L=5: sf(isf(1e-10))", float(law.sf(law.isf(1e-10))), 1e-10, t))
    rows.append(("He N=50 L=5: sf(isf(1e-250))", float(law.sf(law.isf(1e-250))), 1e-250, t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(5000, 2, 1 / 5000, 1 / 5000), 1.0))
    rows.append(("N=5000 with bias: mass lost", law.mass_lost, 0.0, t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(200, 10_000, 0.01), 1.0))
    rows.append(("He N=200 L=1e4: E z", law.mean(), 1.0, t))
    law, t = timed(lambda: sigdist.squared_norm_law(Network.constant(20, 10_000, 1.6 / 20, 0.05), 1.0))
    rows.append(("N=20 bias L=1e4: error estimate", law.error_estimate, 0.0, t))
    print(f"{'case':<34} {'sigdist':>24} {'exact':>24} {'seconds':>8}")
    for name, got, want, t in rows:
        print(f"{name:<34} {got:>24.16g} {want:>24.16g} {t:>8.3f}")


if __name__ == "__main__":
    main()
