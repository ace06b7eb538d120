"""The ``sigdist`` command (no numerics here)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sigdist", description="Exact finite-width signal laws of random networks")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="law of |x_l|^2 of a He network (Fig. 1a) beside real networks")
    demo.add_argument("--width", type=int, default=200)
    demo.add_argument("--depth", type=int, default=9)
    demo.add_argument("--networks", type=int, default=2000, help="real networks simulated for the check")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--figure", default="sigdist_demo.png", help="PNG path ('' for none)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        if args.width < 1 or args.depth < 1 or args.networks < 2:
            parser.error("--width and --depth must be >= 1, --networks >= 2")
        run_demo(args.width, args.depth, args.networks, args.seed, args.figure or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
