"""``sigdist train``: train many seeds of one network at once and print the learning curves beside the prediction.

``add_parser(subparsers)`` adds the subcommand, ``run(args)`` runs it (application layer: it prints, writes
files and draws; the numerics are :func:`sigdist.training.train_population` and
:mod:`sigdist.training.predictions`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from ._cli_report import integer, number, option_error_message, option_failer

__all__ = ["DATA", "INITS", "add_parser", "run", "build_network", "load_data"]

INITS = ("he", "gsm", "looks_linear", "he_truncated")
DATA = ("digits", "teacher", "mixture")
SYNTHETIC_INPUT_WIDTH = 64

EXPLAIN = """sigdist train: R networks of one spec (R = --seeds initialisations) trained together, and what
sigdist predicts about them at initialisation.

Networks: --depth relu layers of --width units on the data's input width, no biases, a linear read-out
to the classes (train_population's readout), cross-entropy loss.
  he            Gaussian weights of variance 2/fan_in (with --batch-norm: batch norm before every relu)
  he_truncated  the same variance given to PyTorch's trunc_normal_ at 2 standard deviations, not rescaled
                (weights of variance 0.774 * 2/fan_in: Hanin & Rolnick's FM1 misuse)
  gsm           W = [[W0, -W0], [-W0, W0]], W0 Gaussian of variance 2/fan_in (Burkholz & Dubatovka §3)
  looks_linear  the same with W0 a random (semi-)orthogonal matrix (sigma_w2 = 1)
Data: digits (scikit-learn's 8x8 digits, 64 features, 10 classes, ships with the package), teacher (labels
of a random teacher network, 64 features), mixture (Gaussian classes, 64 features); split seeded by
--data-seed, which also fixes the mini-batch order (the same for every seed).
Table: at each evaluated step the mean across seeds and its Student-t interval (--level) of the training
loss, train and test accuracy. Below it: the final test accuracy, the steps until the training loss is
below --threshold (fixed before the run; 'never' counts the seeds that did not get there), diverged seeds.
Prediction (at initialisation, sigdist's exact or exactly sampled statistics):
  cosine      mean cosine of two inputs at depth L (the data's mean pairwise cosine in; Burkholz & Dubatovka)
  atom/spread P(|x_L|^2 = 0) and log(q95/q05) of |x_L|^2/|x_0|^2
  r(H_L)      rank bound of a batch of 64 training inputs at the last layer (Daneshmand et al.)
  E[M_d]/M_0, Var[M_d]/E[M_d]^2, sum 1/n_j   activation lengths (Hanin & Rolnick; length_ratio,
              relative_variance, sum_reciprocal_widths)"""


def add_parser(subparsers):
    """Add the ``train`` subcommand to an ``argparse`` subparsers object; returns its parser."""
    p = subparsers.add_parser("train", help="train many seeds of one network at once: learning curves with "
                                            "confidence intervals beside sigdist's prediction at initialisation",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--init", default="he", choices=INITS, help="initialisation")
    p.add_argument("--depth", type=integer(1), default=10, help="number of hidden layers L")
    p.add_argument("--width", type=integer(2), default=128, help="width of every hidden layer (even for gsm, "
                                                                  "looks_linear)")
    p.add_argument("--seeds", type=integer(2), default=50, help="number of networks R trained together")
    p.add_argument("--data", default="digits", choices=DATA, help="the data set")
    p.add_argument("--steps", type=integer(1), default=1000, help="optimisation steps")
    p.add_argument("--lr", type=number(0, low_open=True), default=0.01, help="learning rate")
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"], help="optimiser")
    p.add_argument("--momentum", type=number(0, 1, high_open=True), default=0.0, help="SGD momentum")
    p.add_argument("--schedule", default="constant", choices=["constant", "step", "cosine"],
                   help="learning-rate schedule")
    p.add_argument("--batch-size", type=integer(1), default=64, help="mini-batch size")
    p.add_argument("--batch-norm", action="store_true", help="batch norm before every relu (he only)")
    p.add_argument("--pretrain", default="none", choices=["none", "rank", "rank_rescaled"],
                   help="rank pre-training of each seed before training (Daneshmand et al.; no batch norm); "
                        "rank_rescaled restores each layer's activation norm after it")
    p.add_argument("--eval-every", type=integer(1), default=None, help="steps between evaluations "
                                                                         "(default: steps / 10)")
    p.add_argument("--threshold", type=number(0, low_open=True), default=0.5,
                   help="training-loss level for 'steps until the loss is below it'")
    p.add_argument("--level", type=number(0, 1, low_open=True, high_open=True), default=0.95,
                   help="confidence level of the intervals")
    p.add_argument("--data-seed", type=integer(0, 2**63 - 1), default=0, help="seed of the split and batch order")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:k'")
    p.add_argument("--no-prediction", action="store_true", help="skip the statistics at initialisation")
    p.add_argument("--plot", metavar="PATH", default=None, help="write the learning curves (PNG) here")
    p.add_argument("--json", metavar="PATH", default=None, help="write curves and prediction as JSON ('-': stdout)")
    p.add_argument("--csv", metavar="PATH", default=None, help="write the curve table as CSV ('-': standard output)")
    p.add_argument("--explain", action="store_true", help="print what this subcommand computes, then stop")
    p.set_defaults(train_parser=p)
    return p


def build_network(init, input_width, width, depth, batch_norm=False):
    """The sigdist :class:`~sigdist.network.Network` that ``--init`` names (hidden layers only)."""
    from .network import Layer, Network

    widths = [input_width] + [width] * depth
    if batch_norm and init != "he":
        raise ValueError(f"batch_norm is only for init 'he' here, got init {init!r}")
    if init == "he":
        if not batch_norm:
            return Network.he(widths)
        return Network([Layer(w, 2.0 / f, batch_norm=True) for f, w in zip(widths[:-1], widths[1:])], input_width)
    if init == "he_truncated":
        return Network([Layer(w, 2.0 / f, weight_law="truncated_normal") for f, w in zip(widths[:-1], widths[1:])],
                       input_width)
    for name, value in (("width", width), ("input_width", input_width)):
        if value % 2:
            raise ValueError(f"{name} must be even for init {init!r}, got {value}")
    return Network.gsm(widths) if init == "gsm" else Network.looks_linear(widths)


def load_data(name, seed=0):
    """The :class:`~sigdist.training.Dataset` that ``--data`` names."""
    from .training import gaussian_mixture, load_digits, teacher_task

    if name == "digits":
        return load_digits(seed=seed)
    if name == "teacher":
        return teacher_task(SYNTHETIC_INPUT_WIDTH, seed=seed)
    if name == "mixture":
        return gaussian_mixture(SYNTHETIC_INPUT_WIDTH, n_classes=4, separation=2.0, seed=seed)
    raise ValueError(f"data must be one of {', '.join(DATA)}, got {name!r}")


def predict(network, data, seed=0):
    """``{name: value}``: the statistics of :mod:`sigdist.training.predictions` that apply to ``network``."""
    import numpy as np

    from .training.predictions import cosine_prediction, input_cosine, length_prediction, rank_prediction

    out = {}
    plain = not any(layer.batch_norm for layer in network)
    sharing = network[0].sharing
    if plain:
        cos0 = input_cosine(data.x_train, sharing=sharing, seed=seed)
        try:
            c = cosine_prediction(network, cos0, n_networks=2000, seed=seed)
        except ValueError as err:  # e.g. looks-linear layers that narrow: no exact pair chain
            print(f"sigdist train: no cosine prediction: {err}", file=sys.stderr)
            c = None
    if plain and c is not None:
        out.update(input_cosine=cos0, cosine=c.final_cosine, cosine_se=float(c.cosine_mean_se[-1]),
                   cosine_retention=c.cosine_retention, atom=c.output_atom, log_spread=c.log_spread)
    if sharing == "none":
        batch = np.asarray(data.x_train[:64])
        r = rank_prediction(network, batch, n_networks=4, seed=seed)
        out.update(rank_bound=r.final_rank, rank_bound_se=float(r.rank_bound_se[-1]))
    if plain and sharing == "none":
        ell = length_prediction(network, np.asarray(data.x_train[0]))
        out.update(length_ratio=ell.length_mean / ell.input_mean, relative_variance=ell.relative_variance,
                   sum_reciprocal_widths=ell.sum_reciprocal_widths)
    return out


def run(args):
    """Run ``sigdist train`` with parsed ``args``; returns the exit code."""
    parser = getattr(args, "train_parser", None)
    if args.explain:
        print(EXPLAIN)
        return 0

    fail = option_failer(parser, "train")

    if args.batch_norm and args.init != "he":
        fail(f"argument --batch-norm: only with --init he, got --init {args.init}")
    if args.pretrain != "none" and args.batch_norm:
        fail("argument --pretrain: rank pre-training is for networks without --batch-norm")
    if args.init in ("gsm", "looks_linear") and args.width % 2:
        fail(f"argument --width: must be even for --init {args.init}, got {args.width}")
    eval_every = args.eval_every if args.eval_every is not None else max(1, args.steps // 10)
    if eval_every > args.steps:
        fail(f"argument --eval-every: must be <= --steps = {args.steps}, got {eval_every}")
    from ._checks import check_output_path

    for option in ("plot", "json", "csv"):
        path = getattr(args, option)
        if path and path != "-":
            try:
                check_output_path(path, "--" + option)
            except ValueError as err:
                fail(f"argument --{option}: {err}")
    options = {"lr": "--lr", "steps": "--steps", "batch_size": "--batch-size", "eval_every": "--eval-every",
               "optimizer": "--optimizer", "schedule": "--schedule", "device": "--device", "seeds": "--seeds",
               "momentum": "--momentum", "data": "--data", "width": "--width", "depth": "--depth"}
    try:
        data = load_data(args.data, args.data_seed)
        network = build_network(args.init, data.input_width, args.width, args.depth, args.batch_norm)
    except ImportError as err:
        fail(f"argument --data: {err}")
    except ValueError as err:
        fail(option_error_message(err, options, "--init"))
    out = (lambda line="": print(line, file=sys.stderr)) if "-" in (args.json, args.csv) else print
    prediction = {} if args.no_prediction else predict(network, data, args.data_seed)
    try:
        from .training import train_population

        result = train_population(network, data, args.seeds, optimizer=args.optimizer, lr=args.lr,
                                  momentum=args.momentum, schedule=args.schedule, batch_size=args.batch_size,
                                  steps=args.steps, eval_every=eval_every,
                                  pretrain=None if args.pretrain == "none" else args.pretrain, device=args.device,
                                  data_seed=args.data_seed)
    except ImportError as err:
        fail(f"training needs torch (pip install 'sigdist[mc]'): {err}")
    except (ValueError, RuntimeError) as err:
        fail(option_error_message(err, options, "--device" if "CUDA" in str(err) else None))
    rows, final = summary_rows(result, args.level, args.threshold)
    header = (f"sigdist train: init={args.init}{' + batch norm' if args.batch_norm else ''} depth={args.depth} "
              f"width={args.width} seeds={args.seeds} data={args.data} ({data.n_train} train, {data.n_test} test, "
              f"{data.n_classes} classes) optimizer={args.optimizer} lr={args.lr:g} schedule={args.schedule} "
              f"batch={args.batch_size} steps={args.steps} device={result.device}")
    _print(out, header, rows, final, prediction, args.level)
    _write(args, rows, final, prediction)
    if args.plot:
        _plot(result, args)
        out(f"figure written to {args.plot}")
    return 0


COLUMNS = ("step", "loss", "loss_low", "loss_high", "train_acc", "train_low", "train_high", "test_acc",
           "test_low", "test_high", "n")


def summary_rows(result, level, threshold):
    """The curve table (one row per evaluation step) and the final numbers, from a :class:`TrainingResult`."""
    import numpy as np

    s = result.summary(level)
    rows = []
    for t, step in enumerate(result.steps):
        rows.append([int(step)] + [float(getattr(s[q], k)[t]) for q in ("loss", "train_accuracy", "test_accuracy")
                                   for k in ("mean", "low", "high")] + [int(s["loss"].n[t])])
    steps = result.steps_to_loss(threshold)
    reached = steps[np.isfinite(steps)]
    acc = result.final_summary("test_accuracy", level)
    final = {"test_accuracy": acc.mean, "test_accuracy_low": acc.low, "test_accuracy_high": acc.high,
             "threshold": float(threshold), "reached": int(reached.size), "seeds": int(steps.size),
             "steps_to_threshold_median": float(np.median(steps)) if reached.size * 2 > steps.size else math.inf,
             "diverged": int(np.sum(result.diverged)), "completed": bool(result.completed)}
    return rows, final


def _print(out, header, rows, final, prediction, level):
    out(header)
    cells = [[str(r[0])] + [f"{r[i]:.4f} [{r[i + 1]:.4f}, {r[i + 2]:.4f}]" for i in (1, 4, 7)] + [str(r[10])]
             for r in rows]
    names = ["step", f"loss [{level:g} CI]", f"train_acc [{level:g} CI]", f"test_acc [{level:g} CI]", "n"]
    widths = [max(len(name), *(len(c[i]) for c in cells)) for i, name in enumerate(names)]
    out(" ".join(f"{name:>{w}}" for name, w in zip(names, widths)))
    for c in cells:
        out(" ".join(f"{v:>{w}}" for v, w in zip(c, widths)))
    out("mean across seeds [Student-t interval]; loss: training cross-entropy; n: seeds with a finite loss")
    med = final["steps_to_threshold_median"]
    out(f"final test accuracy {final['test_accuracy']:.4f} [{final['test_accuracy_low']:.4f}, "
        f"{final['test_accuracy_high']:.4f}]; training loss below {final['threshold']:g}: {final['reached']} of "
        f"{final['seeds']} seeds (median step {'never' if math.isinf(med) else int(med)}); "
        f"diverged: {final['diverged']}{'' if final['completed'] else '; INTERRUPTED: curves stop early'}")
    if prediction:
        out("prediction at initialisation: " + ", ".join(f"{k}={v:.4g}" for k, v in prediction.items()))


def _write(args, rows, final, prediction):
    from ._export import jsonable

    if args.csv:
        text = ",".join(COLUMNS) + "\n" + "".join(",".join(repr(v) for v in r) + "\n" for r in rows)
        _emit(args.csv, text)
    if args.json:
        settings = {k: getattr(args, k) for k in ("init", "depth", "width", "seeds", "data", "steps", "lr",
                                                  "optimizer", "momentum", "schedule", "batch_size", "batch_norm",
                                                  "pretrain", "threshold", "level", "data_seed", "device")}
        data = {"command": "train", "settings": settings, "columns": list(COLUMNS),
                "rows": [[jsonable(v) for v in r] for r in rows], "final": {k: jsonable(v) for k, v in final.items()},
                "prediction": {k: jsonable(v) for k, v in prediction.items()}}
        _emit(args.json, json.dumps(data, indent=1, allow_nan=False) + "\n")


def _emit(path, text):
    if path == "-":
        print(text, end="")
    else:
        with open(path, "w") as f:
            f.write(text)


def _plot(result, args):
    from .plotting import pyplot, save_figure, use_file_backend

    use_file_backend()
    s = result.summary(args.level)
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(10, 4))
    for ax, quantities in ((ax1, ("loss",)), (ax2, ("train_accuracy", "test_accuracy"))):
        for q in quantities:
            ax.plot(result.steps, s[q].mean, label=q)
            ax.fill_between(result.steps, s[q].low, s[q].high, alpha=0.3)
        ax.set_xlabel("step")
        ax.legend()
    ax1.set_ylabel("training loss")
    ax2.set_ylabel("accuracy")
    fig.suptitle(f"{args.init}, depth {args.depth}, width {args.width}, {args.seeds} seeds, {args.data} "
                 f"(mean and {args.level:g} interval)")
    save_figure(ax1, args.plot)
