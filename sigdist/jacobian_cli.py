"""``sigdist jacobian``: the spectrum of the input-output Jacobian of random networks (application layer).

``add_parser(subparsers)`` adds the subcommand, ``run(args)`` runs it: Monte Carlo of real networks (torch)
for the moments (1/N_0) tr((J^T J)^k), k = 1, 2, beside the exact finite-width moments where sigdist derives
them (:func:`sigdist.jacobian.spectral_moments`) and the infinite-width values (free probability), and a
histogram of the squared singular values beside the infinite-width density (``--plot``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys

from ._cli_report import integer, number, option_failer

__all__ = ["INITS", "add_parser", "run"]

INITS = ("he", "gsm", "looks_linear", "orthogonal")

EXPLAIN = """sigdist jacobian: squared singular values s^2 of J = dx_L/dx_0 of real random networks.

Networks: --depth square layers of --width units (input width = --width), no biases.
  he            relu, Gaussian weights of variance 2/width (linear: 1/width; tanh: critical at the fixed
                point q* = 0.5, N sigma_w2 = 1/E[tanh'(h)^2] = 1.688, sigma_b2 = 0.038, |x_0|^2 set so that
                the first pre-activation variance is q*; --y0 is not used)
  gsm           relu, W = [[W0, -W0], [-W0, W0]], W0 Gaussian of variance 2/width (Burkholz & Dubatovka §3)
  looks_linear  relu, the same with W0 a random orthogonal matrix (sigma_w2 = 1)
  orthogonal    the he networks (any --activation) with weight_law="orthogonal": every weight matrix a
                Haar-random orthogonal matrix of the same entry variance
Columns: m1 = (1/N0) tr(J^T J), m2 = (1/N0) tr((J^T J)^2): the Monte Carlo mean over --networks networks
and its standard error, the exact finite-width value (relu/linear He and GSM, looks-linear) and the
infinite-width value (free probability; nan where sigdist does not compute it)."""


def add_parser(subparsers):
    """Add the ``jacobian`` subcommand to an ``argparse`` subparsers object; returns its parser."""
    p = subparsers.add_parser("jacobian", help="spectrum of the input-output Jacobian (He, GSM, looks-linear): "
                                               "Monte Carlo, exact finite-width moments, infinite width",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--width", type=integer(2), default=100, help="width N of every layer (even for gsm/looks_linear)")
    p.add_argument("--depth", type=integer(1), default=50, help="number of layers L")
    p.add_argument("--init", default="he", choices=INITS, help="initialisation")
    p.add_argument("--activation", default="relu", choices=["relu", "linear", "tanh"],
                   help="activation (he only; gsm and looks_linear are relu by construction)")
    p.add_argument("--networks", type=integer(2), default=100, help="real networks drawn")
    p.add_argument("--seed", type=integer(0, 2**64 - 1), default=0, help="seed of the random numbers")
    p.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:k'")
    p.add_argument("--y0", type=number(0, low_open=True), default=1.0,
                   help="squared input norm |x_0|^2 (tanh: set by its fixed point instead)")
    p.add_argument("--plot", metavar="PATH", default=None, help="write the density figure (PNG) here")
    p.add_argument("--json", metavar="PATH", default=None, help="write the moments as JSON ('-': standard output)")
    p.add_argument("--csv", metavar="PATH", default=None, help="write the moments as CSV ('-': standard output)")
    p.add_argument("--explain", action="store_true", help="print what this subcommand computes, then stop")
    p.set_defaults(jacobian_parser=p)
    return p


Q_STAR = 0.5  # the fixed point of the critical tanh networks


def _critical_tanh(width, depth, q=Q_STAR):
    """Tanh layers at the fixed point ``q`` with ``chi = N sigma_w2 E[tanh'(h)^2] = 1``, and the input's ``y0``."""
    import numpy as np

    from .free_probability import free_jacobian_law
    from .network import Network

    sigma2 = free_jacobian_law(1, "tanh", preactivation_variance=q).sigma2
    z, w = np.polynomial.hermite_e.hermegauss(160)
    sigma_b2 = q - sigma2 * float(w @ np.tanh(math.sqrt(q) * z) ** 2 / math.sqrt(2 * math.pi))
    return Network.constant(width, depth, sigma2 / width, sigma_b2, "tanh"), (q - sigma_b2) * width / sigma2


def _network(args):
    """``(network, y0)``."""
    from .network import Network

    widths = [args.width] * (args.depth + 1)
    if args.init in ("he", "orthogonal"):
        if args.activation == "relu":
            net, y0 = Network.he(widths), args.y0
        elif args.activation == "tanh":
            net, y0 = _critical_tanh(args.width, args.depth)
        else:
            net, y0 = Network.constant(args.width, args.depth, 1.0 / args.width, 0.0, args.activation), args.y0
        if args.init == "orthogonal":
            net = Network([dataclasses.replace(layer, weight_law="orthogonal") for layer in net], net.input_width)
        return net, y0
    if args.activation != "relu":
        raise ValueError(f"--activation must be relu with --init {args.init} (the sharing schemes are relu)")
    if args.width % 2:
        raise ValueError(f"--width must be even for --init {args.init}, got {args.width}")
    return (Network.gsm(widths) if args.init == "gsm" else Network.looks_linear(widths)), args.y0


def _infinite(args):
    from .free_probability import free_jacobian_law

    if args.init == "looks_linear":
        return 1.0, 2.0, None
    if args.init == "orthogonal":
        q = Q_STAR if args.activation == "tanh" else None
        law = free_jacobian_law(args.depth, args.activation, "orthogonal", preactivation_variance=q)
        return (*law.exact_moments(), law)
    if args.init == "gsm":
        law = free_jacobian_law(args.depth)
        m1, m2 = law.exact_moments()
        return m1, 2.0 * m2, law
    if args.activation in ("relu", "linear"):
        law = free_jacobian_law(args.depth, args.activation)
        return (*law.exact_moments(), law)
    law = free_jacobian_law(args.depth, "tanh", preactivation_variance=Q_STAR)
    return (*law.exact_moments(), law)


def run(args):
    """Run ``sigdist jacobian`` with parsed ``args``; returns the exit code."""
    parser = getattr(args, "jacobian_parser", None)
    if args.explain:
        print(EXPLAIN)
        return 0

    fail = option_failer(parser, "jacobian")

    try:
        net, y0 = _network(args)
    except ValueError as err:
        fail(str(err))
    from . import jacobian

    try:
        mc = jacobian.jacobian_spectrum(net, args.networks, y0=y0, seed=args.seed, device=args.device)
    except ImportError as err:
        fail(f"the Monte Carlo needs torch ({err})")
    except (ValueError, RuntimeError) as err:
        fail(f"--device: {err}" if "device" in str(err) or "CUDA" in str(err) else str(err))
    try:  # refused (ValueError) where no finite-width formula is derived: tanh, orthogonal weights
        exact = jacobian.spectral_moments(net)
        e1, e2 = float(exact.first_moment[-1]), float(exact.second_moment[-1])
    except ValueError:
        e1 = e2 = math.nan
    i1, i2, law = _infinite(args)
    out = (lambda line="": print(line, file=sys.stderr)) if "-" in (args.json, args.csv) else print
    act = args.activation if args.init in ("he", "orthogonal") else "relu"
    out(f"sigdist jacobian: init={args.init} activation={act} "
        f"width={args.width} depth={args.depth} networks={args.networks} device={mc.device}")
    out(f"{'moment':8s} {'monte_carlo':>12s} {'se':>10s} {'exact_N':>12s} {'infinite_N':>12s}")
    for name, m, se, e, i in (("m1", mc.first_moment, mc.first_moment_se, e1, i1),
                              ("m2", mc.second_moment, mc.second_moment_se, e2, i2)):
        out(f"{name:8s} {m:12.6g} {se:10.3g} {e:12.6g} {i:12.6g}")
    out("m_k = (1/N0) tr((J^T J)^k); exact_N: finite-width formula (nan: none derived); infinite_N: free probability")
    rows = [("m1", mc.first_moment, mc.first_moment_se, e1, i1), ("m2", mc.second_moment, mc.second_moment_se, e2, i2)]
    if args.csv:
        text = "moment,monte_carlo,se,exact_N,infinite_N\n" + "".join(
            ",".join([k] + ["" if math.isnan(v) else repr(float(v)) for v in (m, se, e, i)]) + "\n"
            for k, m, se, e, i in rows)
        if args.csv == "-":
            print(text, end="")
        else:
            with open(args.csv, "w") as f:
                f.write(text)
    if args.json:
        data = {"command": "jacobian", "settings": {k: getattr(args, k) for k in
                                                    ("width", "depth", "init", "activation", "networks", "seed",
                                                     "y0")},
                "device": mc.device,
                "rows": [{"moment": k, "monte_carlo": m, "se": s, "exact_N": None if math.isnan(e) else e,
                          "infinite_N": None if math.isnan(i) else i}
                         for k, m, s, e, i in (("m1", mc.first_moment, mc.first_moment_se, e1, i1),
                                               ("m2", mc.second_moment, mc.second_moment_se, e2, i2))]}
        text = json.dumps(data, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")
    if args.plot:
        _plot(mc, law, args)
        out(f"figure written to {args.plot}")
    return 0


def _plot(mc, law, args):
    import numpy as np

    from .plotting import pyplot, save_figure, use_file_backend

    use_file_backend()
    _, ax = pyplot().subplots(figsize=(7, 4.5))
    s_all = mc.squared_singular_values.ravel()
    s = np.log10(s_all[s_all > 1e-12])  # the histogram's mass is the share of all s^2 above 1e-12
    lo, hi = (s.min(), s.max()) if np.ptp(s) > 1e-6 else (s.min() - 0.5, s.max() + 0.5)
    width = (hi - lo) / 80
    ax.hist(s, bins=80, range=(lo, hi), weights=np.full(s.size, 1.0 / (s_all.size * width)), alpha=0.5,
            label=f"Monte Carlo (n = {mc.n_networks})")
    if law is not None:
        scale = 2.0 if args.init == "gsm" else 1.0
        t = np.linspace(lo, hi, 400)
        x = 10.0 ** t
        ax.plot(t, law.pdf(x / scale) / scale * x * math.log(10.0), "k-", lw=1, label="infinite width")
    ax.set_xlabel("log10 s^2 (nonzero squared singular values of J)")
    ax.set_ylabel("density")
    act = args.activation if args.init in ("he", "orthogonal") else "relu"
    ax.set_title(f"Jacobian spectrum, {args.init} ({act}), N = {args.width}, L = {args.depth}")
    ax.legend()
    save_figure(ax, args.plot)
