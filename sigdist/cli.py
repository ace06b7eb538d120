"""The ``sigdist`` command (no numerics here)."""

from __future__ import annotations

import argparse
import os
import sys

_FALLBACK_MEMORY = 16 * 2**30


def _integer(minimum, maximum=None):
    """An argparse type: an integer in [minimum, maximum]; argparse names the option in its one-line error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text!r}")
        return value
    return parse


def _finite(text):
    """An argparse type: a finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


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

    try:
        check_output_path(path, option)
    except ValueError as err:
        parser.error(str(err))


_SEED = _integer(0, 2**64 - 1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sigdist", description="Exact finite-width signal laws of random networks")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="law of |x_l|^2 of a He network (Fig. 1a) beside real networks")
    demo.add_argument("--width", type=_integer(1), default=200)
    demo.add_argument("--depth", type=_integer(1), default=9)
    demo.add_argument("--networks", type=_integer(2), default=2000, help="real networks simulated for the check")
    demo.add_argument("--seed", type=_SEED, default=0)
    demo.add_argument("--figure", default="sigdist_demo.png", help="PNG path ('' for none)")
    spec = sub.add_parser("spectrum", help="exact eigenvalues lambda_m of T (sigma_b = 0) and the critical window")
    spec.add_argument("--width", type=_integer(1), default=200)
    spec.add_argument("--sigma-w2", type=_finite, default=None, help="weight variance (default He: 2 / width)")
    spec.add_argument("--activation", default="relu", choices=["relu", "linear", "abs"])
    spec.add_argument("--m-min", type=_finite, default=-4.0)
    spec.add_argument("--m-max", type=_finite, default=-0.55)
    spec.add_argument("--points", type=_integer(2), default=15)
    cos = sub.add_parser("cosine", help="per-layer law of the cosine similarity of two inputs (relu, He by default)")
    cos.add_argument("--width", type=_integer(1), default=100)
    cos.add_argument("--depth", type=_integer(1), default=10)
    cos.add_argument("--sigma-w2", type=_finite, default=None, help="weight variance (default He: 2 / width)")
    cos.add_argument("--sigma-b2", type=_finite, default=0.0)
    cos.add_argument("--cos", type=_finite, default=0.5, help="input cosine (unit-norm inputs)")
    cos.add_argument("--samples", type=_integer(2), default=20000)
    cos.add_argument("--seed", type=_SEED, default=0)
    rank = sub.add_parser("rank", help="long-run E[r(H)] and soft rank of the linear BN chain (Daneshmand et al.)")
    rank.add_argument("--width", type=_integer(2), default=64)
    rank.add_argument("--gamma", type=float, default=0.5, help="residual strength (inf: no skip connection)")
    rank.add_argument("--batch", type=_integer(1), default=None, help="batch size N (default: the width)")
    rank.add_argument("--steps", type=_integer(1), default=100_000)
    rank.add_argument("--burn-in", type=_integer(0), default=None, help="default: a tenth of the steps")
    rank.add_argument("--chains", type=_integer(1), default=4)
    rank.add_argument("--tau", type=_finite, default=0.5)
    rank.add_argument("--weights", default="gaussian", choices=["gaussian", "uniform"])
    rank.add_argument("--device", default="auto")
    rank.add_argument("--checkpoint", default=None, help="npz file: written during the run, resumed if present")
    rank.add_argument("--seed", type=_SEED, default=0)
    rank.add_argument("--figure", default="sigdist_rank.png", help="trace plot PNG ('' for none)")
    lengths = sub.add_parser("lengths", help="Hanin & Rolnick FM1/FM2: exact E[M_d], Var[M_d] and Theorem 5's bounds")
    lengths.add_argument("--widths", default="20x100",
                         help="hidden widths n_1..n_d: WIDTHxDEPTH or a comma list, e.g. 30,10,30 (n_0 = n_1)")
    lengths.add_argument("--initializer", default="he_normal", help="he_normal, he_normal_truncated, he_uniform, ...")
    lengths.add_argument("--sigma-b2", type=_finite, default=0.0)
    args = parser.parse_args(argv)
    # the CLI only writes figures to files: it chooses the file backend (the library never does)
    from .plotting import use_file_backend

    use_file_backend()
    if args.command == "rank":
        return _rank(parser, args)
    if args.command == "lengths":
        return _lengths(parser, args)
    if args.command == "cosine":
        return _cosine(parser, args)
    if args.command == "spectrum":
        return _spectrum(parser, args)
    if args.command == "demo":
        return _demo(parser, args)
    return 0


def _demo(parser, args):
    from .demo import run_demo

    # one real network's weight matrix, a chunk of them at least, and the samples
    _require_memory(parser, 8 * (2 * args.width**2 + args.networks * args.depth), "--width or --networks")
    if args.figure:
        _require_writable(parser, args.figure, "--figure")
    try:
        run_demo(args.width, args.depth, args.networks, args.seed, args.figure or None)
    except (ValueError, OSError) as err:
        parser.error(str(err))
    return 0


def _cosine(parser, args):
    import numpy as np

    from .correlation import mean_field_cosines, pair_samples
    from .network import Network

    _require_memory(parser, 8 * 3 * args.samples * args.depth, "--samples or --depth")
    chunk = max(1, min(20_000, 2**24 // args.width))  # the pre-activations drawn at once stay below 256 MiB
    try:
        net = Network.constant(args.width, args.depth, args.sigma_w2 if args.sigma_w2 is not None else 2.0 / args.width,
                               args.sigma_b2)
        samples = pair_samples(net, 1.0, 1.0, args.cos, n_networks=args.samples, seed=args.seed, chunk=chunk)
        field = mean_field_cosines(net, 1.0, 1.0, args.cos)
    except ValueError as err:
        parser.error(str(err))
    mean, se = samples.cosine_mean, samples.cosine_mean_se
    q = np.nanquantile(samples.cosines, [0.05, 0.5, 0.95], axis=0)  # interpolated between order statistics
    print(f"relu, N = {args.width}, sigma_w^2 = {net[0].sigma_w2:.6g}, sigma_b^2 = {args.sigma_b2:g}, "
          f"input cosine {args.cos:g}, {args.samples} samples of the exact pair chain")
    print(f"{'l':>3} {'mean cos':>9} {'s.e.':>8} {'q05':>8} {'q50':>8} {'q95':>8} {'c-map':>8}")
    for l in range(net.depth):
        print(f"{l + 1:>3} {mean[l]:>9.5f} {se[l]:>8.1e} {q[0, l]:>8.4f} {q[1, l]:>8.4f} {q[2, l]:>8.4f} {field[l]:>8.5f}")
    return 0


def _rank(parser, args):
    import math
    import os

    from .network import Network
    from .rank_chain import RankChain

    burn_in = args.steps // 10 if args.burn_in is None else args.burn_in
    batch = args.width if args.batch is None else args.batch
    # a block of weights (at least one step of every chain), the state and the Gram matrices
    _require_memory(parser, 8 * args.chains * (4 * args.width**2 + 2 * args.width * batch),
                    "--width, --batch or --chains")
    if args.checkpoint:
        _require_writable(parser, args.checkpoint, "--checkpoint")
    if args.figure:
        _require_writable(parser, args.figure, "--figure")
    try:
        if args.checkpoint and os.path.exists(args.checkpoint):
            chain = RankChain.load(args.checkpoint)
            print(f"resuming {args.checkpoint} at step {chain.n_steps}")
        else:
            network = Network.bn_chain(args.width, gamma=args.gamma, weight_law=args.weights)
            chain = RankChain(network, n_networks=args.chains, batch=args.batch, seed=args.seed, device=args.device)
        res = chain.run(args.steps, burn_in=burn_in, tau=args.tau, checkpoint=args.checkpoint or None)
    except (ValueError, RuntimeError, OSError, ArithmeticError) as err:  # RuntimeError: CUDA asked for where
        parser.error(str(err))  # there is none; ArithmeticError: the chain's state became zero or non-finite
    except KeyboardInterrupt:
        where = f"; the state is saved in {args.checkpoint}, run the same command to resume" if args.checkpoint else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    print(f"linear BN chain: width = {res.width}, N = {res.batch}, gamma = {res.gamma:g}, {res.n_networks} chains x "
          f"{res.n_steps} steps (burn-in {res.burn_in}), {chain.weight_law.name} weights")
    print(f"E[r(H)]        = {res.r_mean:.6f} +- {res.r_mean_se:.2e}   "
          f"(r / sqrt(width) = {res.r_mean / math.sqrt(res.width):.4f})")
    print(f"E[rank_tau(H)] = {res.soft_rank_mean:.6f} +- {res.soft_rank_mean_se:.2e}   (tau = {res.tau:g})")
    print(f"integrated autocorrelation time of r: {res.tau_int_r:.2f} steps; batch means: {res.n_blocks} blocks of "
          f"{res.block_len} per chain; Lemma 1 violations: {res.lemma1_violations}")
    if args.figure:
        from .plotting import plot_rank_trace

        try:
            plot_rank_trace(res, args.figure)
        except OSError as err:
            parser.error(f"--figure: {err}")
        print(f"trace written to {args.figure}")
    return 0


def _spectrum(parser, args):
    import numpy as np

    from .network import Layer
    from .spectrum import critical_window, log_mellin_eigenvalue, mellin_domain, tail_index

    # the chi2 mixture's width + 1 terms at every point, a few arrays of them
    _require_memory(parser, 8 * 4 * args.points * (args.width + 1), "--points or --width")
    try:
        layer = Layer(args.width, args.sigma_w2 if args.sigma_w2 is not None else 2.0 / args.width,
                      activation=args.activation)
        top = mellin_domain(layer)
        if args.m_max >= top or args.m_min >= args.m_max or args.points < 2:
            parser.error(f"need --m-min < --m-max < {top:g} (the eigenvalues diverge there) and --points >= 2")
        ms = np.linspace(args.m_min, args.m_max, args.points)
        logs = log_mellin_eigenvalue(layer, ms)
        window = critical_window(layer)
        lo, hi = window.m_crit, window.m_upper
    except ValueError as err:
        parser.error(str(err))
    print(f"layer: N = {layer.width}, sigma_w^2 = {layer.sigma_w2:.6g}, sigma_b = 0, {layer.activation.name}")
    print(f"{'m':>10} {'lambda_m':>14} {'log lambda_m':>14}")
    for m, lg in zip(ms, logs):
        print(f"{m:>10.4f} {np.exp(lg) if lg < 700 else float('inf'):>14.8g} {lg:>14.8g}")
    print(f"critical window (lambda_m < 1): {lo:.10g} < m < {hi:.10g}")
    try:
        print(f"Kesten tail index of the stationary law with sigma_b > 0: alpha = {tail_index(layer):.10g}")
    except ValueError as err:
        print(f"tail index: {err}")
    return 0


def _parse_widths(spec):
    """``"20x100"`` (width x depth) or ``"30,10,30"`` -> hidden widths n_1..n_d."""
    from ._checks import check_width

    spec = str(spec).strip()
    try:
        if "x" in spec:
            width, depth = spec.split("x")
            width, depth = int(width), int(depth)
            if depth < 1:
                raise ValueError(f"depth must be an integer >= 1, got {depth} in --widths {spec!r}")
            return [check_width(width, "width")] * depth
        return [check_width(int(w), f"widths[{i}]") for i, w in enumerate(spec.split(","))]
    except ValueError as err:
        if "must" in str(err):
            raise
        raise ValueError(f"widths must be WIDTHxDEPTH or a comma list of integers >= 1, got {spec!r}") from None


def _lengths_report(widths, initializer="he_normal", sigma_b2=0.0) -> dict:
    """The lines ``sigdist lengths`` prints: E[M_d], Var[M_d], sum 1/n_j, E[empirical variance] and Theorem 5's
    bounds, for hidden widths given as ``"20x100"`` or ``"30,10,30"`` (``n_0 = n_1``, input
    ``x0 = (1, ..., 1)``, so ``M_0 = 1``)."""
    import numpy as np

    from .initializers import initializer_network
    from .length_bounds import theorem5_bounds
    from .lengths import length_moments

    hidden = _parse_widths(widths)
    net = initializer_network(initializer, [hidden[0], *hidden], sigma_b2)
    x0 = np.ones(hidden[0])
    r = length_moments(net, x0=x0)
    out = {"network": f"{initializer}, depth {net.depth}, widths {hidden[0]}..{hidden[-1]}, sigma_b2 = {sigma_b2:g}",
           "E[M_d]": f"{r.length_mean[-1]:.10g}", "E[M_d^2]": f"{r.length_second_moment[-1]:.10g}",
           "Var[M_d]": f"{r.length_variance[-1]:.10g}", "log_E[M_d^2]": f"{r.log_length_second_moment[-1]:.10g}",
           "sum_1/n_j": f"{r.sum_reciprocal_widths:.10g}", "E[empirical_variance]": f"{r.empirical_variance():.10g}"}
    try:
        t = theorem5_bounds(net, x0=x0)
    except ValueError as err:
        out["theorem5"] = f"not applicable: {err}"
        return out
    out.update({"thm5_lower": f"{t.lower[-1]:.10g}", "thm5_upper(C1,C2)": f"{t.upper[-1]:.10g}",
                "C1,C2": f"{t.C1:g}, {t.C2:g}", "upper_holds(C1,C2)": f"{bool(t.upper_holds[-1])}"})
    if t.upper_gaussian is not None:
        out.update({"thm5_upper(C1=C2=4)": f"{t.upper_gaussian[-1]:.10g}",
                    "upper_holds(C1=C2=4)": f"{bool(t.upper_gaussian_holds[-1])}"})
    return out


def _lengths(parser, args):
    try:
        report = _lengths_report(args.widths, args.initializer, args.sigma_b2)
    except ValueError as err:
        parser.error(str(err))
    for key, value in report.items():
        print(f"{key:<34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
