"""Command line: ``python -m keras_inits {list,report,compare}`` (also ``keras-inits``)."""

from __future__ import annotations

import argparse
import os
import sys


def _list(args) -> int:
    from keras_inits.registry import list_initializers
    from keras_inits.report import format_table

    kind = None if args.all else "initializer"
    rows = [(e.alias, e.name, e.formula, e.reference) for e in list_initializers(kind)]
    print(format_table(("alias", "class", "formula", "reference"), rows))
    return 0


def _report(args) -> int:
    from keras_inits.diagnostics.cli import run_report

    return run_report(
        args.model, batch=args.batch, data=args.data, plot=args.plot, seed=args.seed
    )


def _compare(args) -> int:
    from keras_inits.demo import compare, format_runs, plot_runs

    runs = compare(full=args.full, epochs=args.epochs, seed=args.seed, only=args.only)
    print()
    print(format_runs(runs))
    if args.plot:
        plot_runs(runs, args.plot, seed=args.seed)
        print(f"\nplot written to {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_inits",
        description="Principled weight initialization for Keras 3.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="every initializer, its string alias and formula")
    p.add_argument("--all", action="store_true", help="include layers too")
    p.set_defaults(fn=_list)

    p = sub.add_parser("report", help="signal-propagation report of a saved model")
    p.add_argument("model", help="path to a .keras file")
    p.add_argument("--batch", type=int, default=32, help="rows of the random batch")
    p.add_argument("--data", help=".npy file with an input batch (default: N(0, 1))")
    p.add_argument("--plot", help="write a signal-propagation plot (PNG) here")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=_report)

    p = sub.add_parser(
        "compare", help="train deep nets on digits with Keras defaults vs keras_inits"
    )
    p.add_argument("--full", action="store_true", help="the bigger, slower sweep")
    p.add_argument("--epochs", type=int, help="epochs per run (default 10, full 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", help="run only settings/schemes containing this text")
    p.add_argument(
        "--plot",
        nargs="?",
        const="compare.png",
        default="compare.png",
        help="signal-propagation plot path (default compare.png; '' to skip)",
    )
    p.set_defaults(fn=_compare)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
