"""The ``sigdist`` command (no numerics here): ``sigdist SUBCOMMAND --help`` says what each option does.

Every subcommand prints a table with a legend line, ``--explain`` says what it computes, ``--plot PATH``
writes a figure, ``--json PATH`` / ``--csv PATH`` the table and the settings (``-``: standard output).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from . import jacobian_cli, sweep_cli, training_cli
from ._cli_report import Table, integer, number, option_error_message, print_table, write_csv, write_json
from ._cli_text import explain_text

_FALLBACK_MEMORY = 16 * 2**30
_SEED = integer(0, 2**64 - 1)
_POSITIVE = number(0, low_open=True)
_NONNEGATIVE = number(0)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` after every option that has one (None: the help text says what happens)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS \
                or "%(default)" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _version():
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("sigdist")
    except (ImportError, PackageNotFoundError):
        from . import __version__

        return __version__


def _memory():
    """Bytes of physical memory (a fallback where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_MEMORY


def _require_memory(parser, nbytes, options):
    """Refuse, before any work, a run whose arrays cannot fit in this machine's memory."""
    if nbytes > _memory():
        parser.error(f"{options} too large: the run needs about {nbytes / 2**30:.3g} GiB, this machine has "
                     f"{_memory() / 2**30:.3g} GiB")


def _require_writable(parser, path, option):
    """Refuse, before any work, an output path that could only fail after the whole run."""
    from ._checks import check_output_path

    if not path or path == "-" and option in ("--json", "--csv"):
        return
    try:
        check_output_path(path, option)
    except ValueError as err:
        parser.error(str(err))


def _outputs(p, plot_default=None):
    plot_help = "write a figure (PNG) to this path" + ("; '' for none" if plot_default else " (default: none)")
    names = ["--plot", "--figure"] if plot_default else ["--plot"]
    p.add_argument(*names, dest="plot", default=plot_default, metavar="PATH", help=plot_help)
    p.add_argument("--json", metavar="PATH", help="write the table and the settings as JSON ('-': standard output; "
                                                  "default: none)")
    p.add_argument("--csv", metavar="PATH", help="write the table as CSV, the settings as leading '# name = value' "
                                                 "lines ('-': standard output; default: none)")
    p.add_argument("--explain", action="store_true",
                   help="print what this subcommand computes and what each column means, then stop")


def build_parser():
    """The argument parser of ``sigdist`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="sigdist", description="Exact finite-width signal laws of random networks "
                                     "(Burkholz & Dubatovka 2019), their spectra, two-input cosines, batch-norm rank "
                                     "chains and activation lengths. 'sigdist SUBCOMMAND --explain' says more.")
    parser.add_argument("--version", action="version", version=f"sigdist {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    kw = {"formatter_class": _Formatter}
    demo = sub.add_parser("demo", help="law of |x_l|^2 of a He network (Fig. 1a) beside real networks", **kw)
    demo.add_argument("--width", type=integer(1), default=200, help="width N of every layer")
    demo.add_argument("--depth", type=integer(1), default=9, help="number of layers L")
    demo.add_argument("--networks", type=integer(2), default=2000,
                      help="real networks (random weight draws) simulated for the Monte Carlo check")
    demo.add_argument("--seed", type=_SEED, default=0, help="seed of the Monte Carlo random numbers")
    _outputs(demo, "sigdist_demo.png")
    spec = sub.add_parser("spectrum", help="exact eigenvalues lambda_m of the transition operator T (no bias) and "
                                           "the critical window", **kw)
    spec.add_argument("--width", type=integer(1), default=200, help="width N of the layer")
    spec.add_argument("--sigma-w2", type=_POSITIVE, default=None,
                      help="weight variance sigma_w^2 (default: He, 2 / width)")
    spec.add_argument("--activation", default="relu", choices=["relu", "linear", "abs"], help="activation function")
    spec.add_argument("--m-min", type=number(), default=-4.0, help="smallest exponent m of y^m")
    spec.add_argument("--m-max", type=number(), default=-0.55,
                      help="largest exponent m (below the divergence point, -1/2 for relu)")
    spec.add_argument("--points", type=integer(2), default=15, help="number of exponents, evenly spaced")
    _outputs(spec)
    cos = sub.add_parser("cosine", help="per-layer law of the cosine similarity of two inputs (relu, He by default)",
                         **kw)
    cos.add_argument("--width", type=integer(1), default=100, help="width N of every layer")
    cos.add_argument("--depth", type=integer(1), default=10, help="number of layers L")
    cos.add_argument("--sigma-w2", type=_POSITIVE, default=None,
                     help="weight variance sigma_w^2 (default: He, 2 / width)")
    cos.add_argument("--sigma-b2", type=_NONNEGATIVE, default=0.0, help="bias variance sigma_b^2")
    cos.add_argument("--cos", type=number(-1, 1), default=0.5, help="cosine of the two unit-norm inputs, in [-1, 1]")
    cos.add_argument("--samples", type=integer(2), default=20000, help="random networks sampled")
    cos.add_argument("--seed", type=_SEED, default=0, help="seed of the random numbers")
    _outputs(cos)
    rank = sub.add_parser("rank", help="long-run E[r(H)] and soft rank of the linear batch-norm chain "
                                       "(Daneshmand et al. 2020)", **kw)
    rank.add_argument("--width", type=integer(2), default=64, help="width d of the layers")
    rank.add_argument("--gamma", type=number(0, low_open=True, allow_inf=True), default=0.5,
                      help="residual strength: each layer multiplies by I + gamma W (inf: no skip connection)")
    rank.add_argument("--batch", type=integer(1), default=None, help="batch size N (default: the width)")
    rank.add_argument("--steps", type=integer(1), default=100_000, help="layers (chain steps) of every chain")
    rank.add_argument("--burn-in", type=integer(0), default=None,
                      help="first steps left out of the averages (default: a tenth of --steps, or the checkpoint's)")
    rank.add_argument("--chains", type=integer(1), default=4, help="independent chains (random networks)")
    rank.add_argument("--tau", type=number(0, 1), default=0.5,
                      help="soft-rank threshold: the soft rank counts eigenvalues of H H^T / N that are >= tau")
    rank.add_argument("--weights", default="gaussian", choices=["gaussian", "uniform"], help="law of the weights")
    rank.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:k'")
    rank.add_argument("--checkpoint", default=None, metavar="PATH",
                      help="npz file written during the run and resumed if present (it must have been written with "
                           "the same settings; default: none)")
    rank.add_argument("--seed", type=_SEED, default=0, help="seed of the random numbers (a new run only)")
    _outputs(rank, "sigdist_rank.png")
    lengths = sub.add_parser("lengths", help="Hanin & Rolnick's failure modes FM1/FM2: exact E[M_d], Var[M_d] and "
                                             "Theorem 5's bounds", **kw)
    lengths.add_argument("--widths", default="20x100",
                         help="hidden widths n_1..n_d: WIDTHxDEPTH or a comma list, e.g. 30,10,30 (input width "
                              "n_0 = n_1)")
    lengths.add_argument("--initializer", default="he_normal",
                         help="weight initialiser: he_normal, he_normal_truncated, he_uniform, ...")
    lengths.add_argument("--sigma-b2", type=_NONNEGATIVE, default=0.0, help="bias variance sigma_b^2")
    _outputs(lengths)
    sweep_cli.add_parser(sub)  # its own options: a config file, --scheduler, --out (.nc or .csv)
    jacobian_cli.add_parser(sub)
    training_cli.add_parser(sub)
    return parser, sub.choices


def main(argv=None):
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("sweep", "jacobian", "train"):
        return {"sweep": sweep_cli, "jacobian": jacobian_cli, "train": training_cli}[args.command].run(args)
    sub = subparsers[args.command]
    if args.explain:
        print(explain_text(args.command))
        return 0
    for option in ("plot", "json", "csv"):
        _require_writable(sub, getattr(args, option), "--" + option)
    # the CLI only writes figures to files: it chooses the file backend (the library never does)
    from .plotting import use_file_backend

    use_file_backend()
    command = {"rank": _rank, "lengths": _lengths, "cosine": _cosine, "spectrum": _spectrum, "demo": _demo}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = command[args.command](sub, args)
    for w in caught:  # one line each, after the table
        print(f"sigdist {args.command}: warning: {' '.join(str(w.message).split())}", file=sys.stderr)
    return result


def _out(args):
    """Where the table goes: standard error when standard output carries the JSON or CSV."""
    if "-" in (args.json, args.csv):
        return lambda line="": print(line, file=sys.stderr)
    return print


def _finish(sub, args, table, draw, quiet=False):
    """Print the table, write JSON/CSV, and draw the figure with ``draw(ax)`` when asked."""
    out = _out(args)
    if not quiet:
        print_table(table, out)
    try:
        if args.json:
            write_json(table, args.json)
        if args.csv:
            write_csv(table, args.csv)
        if args.plot:
            from .plotting import save_figure

            save_figure(draw(None), args.plot)
            out(f"figure written to {args.plot}")
    except OSError as err:
        sub.error(f"writing the output: {err}")
    return 0


def _library_error(sub, err, options, fallback=None):
    sub.error(option_error_message(err, options, fallback))


def _demo(sub, args):
    from .demo import DEMO_COLUMNS, demo_table
    from .plotting import plot_layer_laws

    # one real network's weight matrix, a chunk of them at least, and the samples
    _require_memory(sub, 8 * (2 * args.width**2 + args.networks * args.depth), "--width or --networks")
    try:
        laws, samples, rows = demo_table(args.width, args.depth, args.networks, args.seed, out=_out(args))
    except ValueError as err:
        _library_error(sub, err, {"width": "--width", "depth": "--depth", "n_networks": "--networks",
                                  "seed": "--seed"})
    settings = {"width": args.width, "depth": args.depth, "networks": args.networks, "seed": args.seed,
                "sigma_w2": 2.0 / args.width, "sigma_b2": 0.0, "y0": 1.0}
    table = Table("demo", [], settings, rows, [""] * len(DEMO_COLUMNS))
    title = f"Law of |x_l|^2, He init, N = {args.width} (Burkholz & Dubatovka Fig. 1a)"
    return _finish(sub, args, table, lambda ax: plot_layer_laws(laws, samples=samples[:, -1], ax=ax, title=title),
                   quiet=True)


def _cosine(sub, args):
    import numpy as np

    from .correlation import mean_field_cosines, pair_samples
    from .network import Network
    from .plotting import plot_cosine

    _require_memory(sub, 8 * 3 * args.samples * args.depth, "--samples or --depth")
    chunk = max(1, min(20_000, 2**24 // args.width))  # the pre-activations drawn at once stay below 256 MiB
    sigma_w2 = args.sigma_w2 if args.sigma_w2 is not None else 2.0 / args.width
    try:
        net = Network.constant(args.width, args.depth, sigma_w2, args.sigma_b2)
        samples = pair_samples(net, 1.0, 1.0, args.cos, n_networks=args.samples, seed=args.seed, chunk=chunk)
        field = mean_field_cosines(net, 1.0, 1.0, args.cos)
    except ValueError as err:
        _library_error(sub, err, {"y12": "--cos", "sigma_w2": "--sigma-w2", "sigma_b2": "--sigma-b2",
                                  "width": "--width", "depth": "--depth", "n_networks": "--samples", "seed": "--seed"},
                       "--sigma-w2/--sigma-b2 (the signals overflow or vanish)")
    mean, se = samples.cosine_mean, samples.cosine_mean_se
    q = np.nanquantile(samples.cosines, [0.05, 0.5, 0.95], axis=0)  # interpolated between order statistics
    header = [f"relu network: width N = {args.width}, depth {args.depth}, sigma_w^2 = {sigma_w2:.6g}, "
              f"sigma_b^2 = {args.sigma_b2:g}; two unit-norm inputs with cosine {args.cos:g}; "
              f"{args.samples} samples of the exact pair chain"]
    rows = [[l + 1, mean[l], se[l], q[0, l], q[1, l], q[2, l], field[l]] for l in range(net.depth)]
    settings = {"width": args.width, "depth": args.depth, "sigma_w2": sigma_w2, "sigma_b2": args.sigma_b2,
                "cos": args.cos, "samples": args.samples, "seed": args.seed}
    table = Table("cosine", header, settings, rows, ["d", ".5f", ".1e", ".4f", ".4f", ".4f", ".5f"])
    title = f"Cosine of two inputs, relu, N = {args.width}, input cosine {args.cos:g}"
    return _finish(sub, args, table, lambda ax: plot_cosine(samples.cosines, field, ax=ax, title=title))


def _spectrum(sub, args):
    import numpy as np

    from .network import Layer
    from .plotting import plot_spectrum
    from .spectrum import critical_window, log_mellin_eigenvalue, mellin_domain, tail_index

    # the chi2 mixture's width + 1 terms at every point, a few arrays of them
    _require_memory(sub, 8 * 4 * args.points * (args.width + 1), "--points or --width")
    options = {"width": "--width", "sigma_w2": "--sigma-w2", "m": "--m-max", "activation": "--activation"}
    sigma_w2 = args.sigma_w2 if args.sigma_w2 is not None else 2.0 / args.width
    try:
        layer = Layer(args.width, sigma_w2, activation=args.activation)
        top = mellin_domain(layer)
    except ValueError as err:
        _library_error(sub, err, options, "--sigma-w2")
    if args.m_max >= top:
        sub.error(f"argument --m-max: must be < {top:g} (the eigenvalues diverge there), got {args.m_max:g}")
    if args.m_min >= args.m_max:
        sub.error(f"argument --m-min: must be < --m-max = {args.m_max:g}, got {args.m_min:g}")
    try:
        ms = np.linspace(args.m_min, args.m_max, args.points)
        logs = log_mellin_eigenvalue(layer, ms)
        window = critical_window(layer)
    except ValueError as err:
        _library_error(sub, err, options, "--sigma-w2")
    lo, hi = window.m_crit, window.m_upper
    header = [f"one layer without bias (sigma_b = 0): width N = {layer.width}, sigma_w^2 = {layer.sigma_w2:.6g}, "
              f"{layer.activation.name}"]
    rows = [[m, float(np.exp(lg)) if lg < 700 else float("inf"), lg] for m, lg in zip(ms, logs)]
    notes = [f"critical window (lambda_m < 1): {lo:.10g} < m < {hi:.10g}"]
    extra = {"m_crit": lo, "m_upper": hi, "tail_index": None}
    try:
        alpha = tail_index(layer)
        extra["tail_index"] = alpha
        notes.append(f"with a bias sigma_b > 0 added to this layer, its stationary law has the power tail "
                     f"P(z > t) ~ C t^-alpha, Kesten's alpha = {alpha:.10g} (not a property of the sigma_b = 0 "
                     "chain, which has no stationary law)")
    except ValueError as err:
        notes.append(f"no Kesten tail index for this layer with a bias: {err}")
    settings = {"width": layer.width, "sigma_w2": layer.sigma_w2, "sigma_b2": 0.0,
                "activation": layer.activation.name, "m_min": args.m_min, "m_max": args.m_max, "points": args.points}
    table = Table("spectrum", header, settings, rows, [".4f", ".8g", ".8g"], notes, extra)
    title = f"Eigenvalues of T, N = {layer.width}, sigma_w^2 = {layer.sigma_w2:.4g}, sigma_b = 0"
    return _finish(sub, args, table, lambda ax: plot_spectrum(ms, logs, (lo, hi), ax=ax, title=title))


def _rank(sub, args):
    import math

    from ._cli_rank import checkpoint_differences, short_run_warnings
    from .network import Network
    from .plotting import plot_rank_trace
    from .rank_chain import RankChain

    batch = args.width if args.batch is None else args.batch
    # a block of weights (at least one step of every chain), the state and the Gram matrices
    _require_memory(sub, 8 * args.chains * (4 * args.width**2 + 2 * args.width * batch),
                    "--width, --batch or --chains")
    _require_writable(sub, args.checkpoint, "--checkpoint")
    options = {"gamma": "--gamma", "tau": "--tau", "batch": "--batch", "n_networks": "--chains", "width": "--width",
               "device": "--device", "burn_in": "--burn-in", "n_steps": "--steps", "seed": "--seed",
               "checkpoint": "--checkpoint"}
    burn_in = args.steps // 10 if args.burn_in is None else args.burn_in
    resumed = None
    if args.checkpoint and os.path.exists(args.checkpoint):
        try:
            chain = RankChain.load(args.checkpoint)
        except (ValueError, OSError, RuntimeError) as err:
            sub.error(f"argument --checkpoint: cannot resume {args.checkpoint}: {err}")
        wanted = {"--width": args.width, "--gamma": args.gamma, "--batch": args.batch, "--chains": args.chains,
                  "--weights": args.weights, "--tau": args.tau, "--burn-in": args.burn_in}
        differ = checkpoint_differences(chain, wanted)
        if differ:
            sub.error(f"argument --checkpoint: {args.checkpoint} was written with other settings: {'; '.join(differ)}"
                      "; give the checkpoint's settings or another --checkpoint path")
        if args.steps < chain.n_steps:
            sub.error(f"argument --steps: {args.checkpoint} already holds {chain.n_steps} steps, more than --steps "
                      f"{args.steps}")
        burn_in = chain.burn_in if chain.burn_in is not None else burn_in
        resumed = chain.n_steps
    if args.steps <= burn_in:
        sub.error(f"argument --steps: must be > --burn-in = {burn_in} (n_steps must be > burn_in: nothing would be "
                  f"recorded), got {args.steps}")
    try:
        if resumed is None:
            network = Network.bn_chain(args.width, gamma=args.gamma, weight_law=args.weights)
            chain = RankChain(network, n_networks=args.chains, batch=args.batch, seed=args.seed, device=args.device)
        res = chain.run(args.steps, burn_in=burn_in, tau=args.tau, checkpoint=args.checkpoint or None)
    except (ValueError, RuntimeError, OSError, ArithmeticError) as err:  # RuntimeError: CUDA asked for where
        _library_error(sub, err, options)  # there is none; ArithmeticError: the state became zero or non-finite
    except ImportError as err:  # a torch device without torch
        sub.error(f"argument --device: {err}")
    except KeyboardInterrupt:
        where = f"; the state is saved in {args.checkpoint}, run the same command to resume" if args.checkpoint else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    short, tau = short_run_warnings(res)
    header = ([f"resumed {args.checkpoint} at step {resumed}"] if resumed is not None else []) + [
        f"linear BN chain: width d = {res.width}, batch N = {res.batch}, gamma = {res.gamma:g}, {res.n_networks} "
        f"chains x {res.n_steps} steps (burn-in {res.burn_in}), {chain.weight_law.name} weights, tau = {res.tau:g}"]
    rows = [["r(H)", res.r_mean, res.r_mean_se, res.tau_int_r],
            ["rank_tau(H)", res.soft_rank_mean, res.soft_rank_mean_se, res.tau_int_soft_rank]]
    notes = [f"r / sqrt(width) = {res.r_mean / math.sqrt(res.width):.4f}; batch means: {res.n_blocks} blocks of "
             f"{res.block_len} steps per chain; autocorrelation time of r from the trace: "
             f"{tau:.3g} steps (the larger estimate)",
             f"Lemma 1 violations: {res.lemma1_violations} (steps where rank_tau(H) < (1 - tau)^2 r(H); Lemma 1 "
             "says none)"]
    settings = {"width": res.width, "batch": res.batch, "gamma": res.gamma, "steps": res.n_steps,
                "burn_in": res.burn_in, "chains": res.n_networks, "tau": res.tau, "weights": chain.weight_law.name,
                "seed": args.seed if resumed is None else None, "checkpoint": args.checkpoint}
    extra = {"tau_int_r_trace": tau, "lemma1_violations": res.lemma1_violations, "n_blocks": res.n_blocks,
             "block_len": res.block_len, "warnings": short}
    table = Table("rank", header, settings, rows, ["<", ".6f", ".2e", ".3g"], notes, extra)
    code = _finish(sub, args, table, lambda ax: plot_rank_trace(res, ax=ax))
    for line in short:
        print(f"sigdist rank: warning: {line}", file=sys.stderr)
    return code


def _lengths(sub, args):
    import numpy as np

    from ._cli_rank import describe_widths, parse_widths
    from .initializers import initializer_network
    from .length_bounds import theorem5_bounds
    from .lengths import length_moments
    from .plotting import plot_lengths

    try:
        hidden = parse_widths(args.widths)
        net = initializer_network(args.initializer, [hidden[0], *hidden], args.sigma_b2)
        x0 = np.ones(hidden[0])
        r = length_moments(net, x0=x0)
    except ValueError as err:
        _library_error(sub, err, {"widths": "--widths", "initializer": "--initializer", "sigma_b2": "--sigma-b2"})
    header = [f"network: {args.initializer}, depth {net.depth}, hidden widths {describe_widths(hidden)} (input width "
              f"n_0 = {hidden[0]}, x_0 = (1, ..., 1), M_0 = 1), sigma_b^2 = {args.sigma_b2:g}"]
    rows = [["E[M_d]", r.length_mean[-1]], ["E[M_d^2]", r.length_second_moment[-1]],
            ["Var[M_d]", r.length_variance[-1]], ["log_E[M_d^2]", r.log_length_second_moment[-1]],
            ["sum_1/n_j", r.sum_reciprocal_widths], ["E[empirical_variance]", r.empirical_variance()]]
    notes, t = [], None
    try:
        t = theorem5_bounds(net, x0=x0)
    except ValueError as err:
        notes.append(f"Theorem 5 does not apply: {err}")
    if t is not None:
        rows += [["thm5_lower", t.lower[-1]], ["thm5_upper(C1,C2)", t.upper[-1]], ["C1", t.C1], ["C2", t.C2],
                 ["upper_holds(C1,C2)", bool(t.upper_holds[-1])]]
        if t.upper_gaussian is not None:
            rows += [["thm5_upper(C1=C2=4)", t.upper_gaussian[-1]],
                     ["upper_holds(C1=C2=4)", bool(t.upper_gaussian_holds[-1])]]
    settings = {"widths": ",".join(map(str, hidden)), "initializer": args.initializer, "sigma_b2": args.sigma_b2}
    table = Table("lengths", header, settings, rows, ["<", "<.10g"], notes)
    title = f"Activation lengths, {args.initializer}, widths {describe_widths(hidden)}"
    return _finish(sub, args, table, lambda ax: plot_lengths(r, t, ax=ax, title=title))

if __name__ == "__main__":
    sys.exit(main())
