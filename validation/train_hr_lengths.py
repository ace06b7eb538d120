"""Hanin & Rolnick (2018), Fig. 1b, 2b and 3 at the scale of a CPU: steps until training starts against the
weight variance (FM1), the sum of reciprocal widths (FM2) and residual scales, beside E[M_d] and Var[M_d].

    python validation/train_hr_lengths.py [--quick] [--out train_hr_lengths.png]

Data: scikit-learn's digits (split seed 0). Outcome: for each seed the first evaluated step (every 10 steps)
at which the training loss is below 1.5 (chance is ln 10 = 2.30; fixed before any run; every 20 steps in
the full mode), the budget T for a
seed that never got there (right-censored; the count is printed). Training: SGD, lr 0.01 (H&R's, not adapted
to the network), batch 64, the same mini-batches for every seed, no biases, a linear read-out.
  FM1: L relu layers of width N with Gaussian weights of variance c * 2 / fan_in, c in a range around the He
       value 1, and PyTorch's trunc_normal_(std = sqrt(2 / fan_in)) misuse (variance 0.774 * 2 / fan_in);
       predicted |log(E[M_L] / M_0)| = L |log c| (sigdist.length_moments, exact).
  FM2: He normal, L layers, constant widths and widths that shrink or grow; predicted sum_j 1/n_j and
       Var[M_L] / E[M_L]^2 (exact).
  residual: L modules x -> x + eta N(x), N = linear(relu(W x)) of width 64 (sigdist.residual_lengths'
       linear read-out modules), constant eta; predicted log(E[M^res_L] / M_0) = sum_l log(1 + 2 eta_l^2).
Full: FM1 L = 25, N = 48; FM2 L = 16; residual L = 16; 6 seeds; T = 500. --quick: L = 15, N = 32; FM2 L = 10;
residual L = 10; 4 seeds; T = 300. The paper's claim for each: the larger the predicted statistic, the later
training starts. Reported: the correlation of each statistic with the mean (censored) steps, with intervals;
exit code 0 when every number is finite.
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _training_common import censored_steps, mean_ci, parse_args, print_table, report, train  # noqa: E402

from sigdist import Layer, Network  # noqa: E402
from sigdist.residual_lengths import linear_readout_residual  # noqa: E402
from sigdist.training import load_digits  # noqa: E402
from sigdist.training.predictions import length_prediction  # noqa: E402

THRESHOLD = 1.5
LR = 0.01
EVAL_EVERY = 10  # 20 in the full mode


def fm1_networks(n0, width, depth, quick):
    factors = (0.5, 0.75, 1.0, 1.5, 2.0) if quick else (0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
    widths = [n0] + [width] * depth
    nets = {f"c={c:g}": Network([Layer(w, c * 2.0 / f) for f, w in zip(widths[:-1], widths[1:])], n0)
            for c in factors}
    nets["truncated"] = Network([Layer(w, 2.0 / f, weight_law="truncated_normal")
                                 for f, w in zip(widths[:-1], widths[1:])], n0)
    return nets


def fm2_networks(n0, depth, quick):
    shapes = {"const 8": [8] * depth, "const 16": [16] * depth, "const 32": [32] * depth,
              "const 64": [64] * depth,
              "shrink 64->8": np.linspace(64, 8, depth).round().astype(int).tolist(),
              "grow 8->64": np.linspace(8, 64, depth).round().astype(int).tolist()}
    if not quick:
        shapes.update({"const 12": [12] * depth, "const 128": [128] * depth,
                       "shrink 128->16": np.linspace(128, 16, depth).round().astype(int).tolist(),
                       "bottleneck 64-8-64": [64] * (depth // 2 - 1) + [8] + [64] * (depth - depth // 2)})
    return {name: Network.he([n0] + ws) for name, ws in shapes.items()}


def residual_networks(n0, depth, quick):
    etas = (0.1, 0.3, 0.5, 0.7, 1.0) if quick else (0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0)
    return {f"eta={e:g}": linear_readout_residual(n0, [n0], [e] * depth) for e in etas}


def run_part(name, nets, data, seeds, steps, statistic, x0, eval_every):
    rows = []
    for label, net in nets.items():
        p = length_prediction(net, x0)
        r, sec = train(net, data, seeds, lr=LR, steps=steps, eval_every=eval_every, batch_size=64, data_seed=0)
        s, never = censored_steps(r, THRESHOLD, steps)
        mean, half = mean_ci(s)
        rows.append((label, p.log_mean_ratio, p.relative_variance, p.sum_reciprocal_widths, statistic(p), mean, half,
                     never, int(r.diverged.sum()), sec))
        print(f"  {name} {label}: {sec:.1f} s", file=sys.stderr)
    print(f"{name}:")
    print_table(["network", "log(E[M]/M0)", "Var/E^2", "sum_1/n", "predicted", "steps", "+-95%", "never",
                 "diverged", "seconds"], rows,
                ["<", ".4f", ".4g", ".4f", ".4g", ".1f", ".1f", "d", "d", ".1f"])
    return rows


def main(argv=None):
    args = parse_args(argv, __doc__, "train_hr_lengths.png")
    q = args.quick
    (d1, n1), d2, d3, seeds, steps = ((15, 32), 10, 10, 4, 300) if q else ((25, 48), 16, 16, 6, 500)
    seeds, steps = args.seeds or seeds, args.steps or steps
    eval_every = EVAL_EVERY if q else 2 * EVAL_EVERY
    data = load_digits(seed=0)
    x0 = np.asarray(data.x_train[0])
    print(f"digits: {data.n_train} train; SGD lr {LR:g}, batch 64, {steps} steps, {seeds} seeds; steps until the "
          f"training loss < {THRESHOLD:g} (evaluated every {eval_every}; never -> {steps})")
    parts = {
        "FM1 (weight variance)": (fm1_networks(data.input_width, n1, d1, q), lambda p: abs(p.log_mean_ratio)),
        "FM2 (widths)": (fm2_networks(data.input_width, d2, q), lambda p: p.sum_reciprocal_widths),
        "residual (scales eta)": (residual_networks(data.input_width, d3, q), lambda p: p.log_mean_ratio),
    }
    what = {"FM1 (weight variance)": "|log(E[M_L]/M_0)|", "FM2 (widths)": "sum_j 1/n_j",
            "residual (scales eta)": "log(E[M_L^res]/M_0)"}
    tables, ok = {}, True
    for name, (nets, statistic) in parts.items():
        rows = run_part(name, nets, data, seeds, steps, statistic, x0, eval_every)
        tables[name] = rows
        predicted = np.array([row[4] for row in rows])
        measured = np.array([row[5] for row in rows])
        ok &= bool(np.all(np.isfinite(predicted)) and np.all(np.isfinite(measured)))
        report(f"{name}: {what[name]} vs steps until loss < {THRESHOLD:g}", predicted, measured, +1)
        if name == "FM2 (widths)":
            report(f"{name}: Var[M_L]/E[M_L]^2 vs steps", np.array([row[2] for row in rows]), measured, +1)
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    fig, axes = pyplot().subplots(1, 3, figsize=(14, 4))
    for ax, (name, rows) in zip(axes, tables.items()):
        ax.errorbar([row[4] for row in rows], [row[5] for row in rows], yerr=[row[6] for row in rows], fmt="o",
                    capsize=3)
        for row in rows:
            ax.annotate(row[0], (row[4], row[5]), fontsize=7)
        ax.set_xlabel(f"predicted {what[name]}")
        ax.set_ylabel(f"steps until training loss < {THRESHOLD:g}")
        ax.set_title(name)
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
