"""Summary of sigdist against tests/data/reference_tails.json, group by group.

    PYTHONPATH=. python validation/check_reference_tails.py [--verbose]

Prints, for each group of reference cases, how many pass the tolerance of
tests/test_reference_tails.py (rtol 1e-8 tails, 1e-10 moments), how many are skipped
(out of the float64 range) and the worst relative error.  The same comparison as the test
module, in one table.
"""

import argparse
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import test_reference_tails as T  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    groups = {}
    for case in T.CASES:
        g = groups.setdefault((case["group"], case["quantity"]), dict(n=0, ok=0, skip=0, worst=0.0, where=""))
        g["n"] += 1
        try:
            law = T._law(case["layers"], case["y0"])
        except Exception as exc:  # noqa: BLE001 - a failure to build the law is a failed case
            g["worst"] = math.inf
            g["where"] = f"{case['id']}: {type(exc).__name__}"
            continue
        q = case["quantity"]
        if q == "log_moment":
            if not -307 < case["log10"] < 308:
                g["skip"] += 1
                continue
            want = float(case["value"])
            try:
                got = law.moment(case["k"])
            except Exception:  # noqa: BLE001
                got = math.nan
            tol = T.RTOL_MOMENT
        else:
            if case["log10"] <= -307.5:
                g["skip"] += 1
                continue
            want = float(case["value"])
            got = T._continuous_cdf(law, case["t"]) if q == "cdf_cont" else float(law.sf(case["t"]))
            tol = T.RTOL_TAIL
        err = abs(got - want) / abs(want) if math.isfinite(got) else math.inf
        if err <= tol:
            g["ok"] += 1
        if not err <= g["worst"]:
            g["worst"] = err
            g["where"] = f"{case['id']} (ref 10^{case['log10']:.1f})"
        if a.verbose:
            print(f"{case['id']:40s} rel {err:.2e}")
    print(f"{'group':22s} {'quantity':10s} {'pass':>9s} {'skip':>5s}  worst rel  at")
    for (grp, q), g in sorted(groups.items()):
        print(f"{grp:22s} {q:10s} {g['ok']:4d}/{g['n'] - g['skip']:<4d} {g['skip']:5d}  {g['worst']:.2e}  {g['where']}")
    total = sum(g["n"] - g["skip"] for g in groups.values())
    ok = sum(g["ok"] for g in groups.values())
    print(f"total: {ok}/{total} pass, {sum(g['skip'] for g in groups.values())} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
