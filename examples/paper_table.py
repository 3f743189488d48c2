"""Train the paper's four networks on one dataset and write its comparison as a markdown table.

    python examples/paper_table.py --data synthetic --epochs 8
    python examples/paper_table.py --data fer2013 --data-path data/fer2013.csv

Each network trains with the same options through examples/train.py (one run folder each,
under --out); the table gives test accuracy (the test split, evaluated once with the weights
chosen on validation), training time and parameters, like the paper's Tables 5-6.
"""
import sys
import time
from pathlib import Path

from minifer.io import atomic_write
from train import parse_args, run

ARCHS = ("arch1", "arch2", "arch3", "arch4")
DESCRIPTIONS = {"arch1": "separable + GAP", "arch2": "separable + dense", "arch3": "standard + GAP",
                "arch4": "standard + dense"}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv, arch="arch1")
    base = Path(args.out or Path("runs") / f"paper-table-{args.data}-{time.strftime('%Y%m%d-%H%M%S')}")
    rows = []
    for arch in ARCHS:
        args.arch, args.out = arch, str(base / arch)
        print(f"\n=== {arch} ({DESCRIPTIONS[arch]}) ===")
        rows.append(run(args))
    lines = [f"Dataset: {args.data}; {args.epochs} epochs at most, batch {args.batch_size}, Adam {args.lr}, "
             f"L2 {args.l2}, seed {args.seed}.", "",
             "| network | kind | test accuracy | macro F1 | epochs | training time (s) | parameters | trainable |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arch'].upper()} | {DESCRIPTIONS[r['arch']]} | {r['test_accuracy']:.4f} | "
                     f"{r['macro_f1']:.4f} | {r['epochs_run']} | {r['train_seconds']:.0f} | "
                     f"{r['params_total']:,} | {r['params_trainable']:,} |")
    table = "\n".join(lines) + "\n"
    with atomic_write(str(base / "paper_table.md"), "w") as f:
        f.write(table)
    print("\n" + table + f"\nWritten to {base / 'paper_table.md'}")


if __name__ == "__main__":
    main()
