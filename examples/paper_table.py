"""Train the paper's four networks (ARCH-1 to ARCH-4) one after another with the same options and
write their comparison as a markdown table, like the paper's Tables 5-6:

    python examples/paper_table.py --data synthetic --epochs 10 --lr 0.001

(the command behind the table in docs/training.md; the options are examples/train.py's, without
--arch and --resume). Each network gets a run folder under --out; the table gives test accuracy (the
test split, evaluated once with the weights chosen on validation), training time and parameters.
Run again with the same --out, the table goes on where it stopped: a network with a metrics.json is
kept, one stopped by Ctrl-C resumes from its last.npz. Under mpiexec each network trains on every
process (examples/train.py) and rank 0 writes the table.
"""
import json
import sys
import time
from pathlib import Path

import minifer
from minifer.io import atomic_write
from train import Interrupted, check_settings, command_line, parse_args, run

ARCHS = ("arch1", "arch2", "arch3", "arch4")
DESCRIPTIONS = {"arch1": "separable + GAP", "arch2": "separable + dense", "arch3": "standard + GAP",
                "arch4": "standard + dense"}


def main(argv=None):
    args = parse_args(argv, arch="arch1", description=__doc__, resume=False)
    base = Path(args.out or Path("runs") / f"paper-table-{args.data}-{time.strftime('%Y%m%d-%H%M%S')}")
    comm = minifer.distributed.init()  # one process, or this one of an mpiexec/srun job
    rows = []
    try:
        for arch in ARCHS:
            rows.append(_network(args, arch, base / arch, comm))
    except Interrupted:
        print(f"\nInterrupted: {base / 'paper_table.md'} not written. Continue the table with:\n  "
              f"{command_line(args, __file__, base, skip=('arch',))}", file=sys.stderr)
        sys.exit(130)
    if not comm.is_chief:  # rank 0 alone tested the networks and writes the table
        return
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


def _network(args, arch, out, comm):
    """One network's row: kept from an earlier run of this table, resumed, or trained."""
    args.arch, args.out, args.resume = arch, str(out), None
    if (out / "config.json").is_file():
        check_settings(args, out / "config.json")
        if (out / "metrics.json").is_file():
            print(f"\n=== {arch} ({DESCRIPTIONS[arch]}): kept from {out / 'metrics.json'} ===")
            return json.loads((out / "metrics.json").read_text())
        if (out / "last.npz").is_file():
            args.resume = str(out / "last.npz")
    print(f"\n=== {arch} ({DESCRIPTIONS[arch]}){' resumed' if args.resume else ''} ===")
    return run(args, comm)


if __name__ == "__main__":
    main()
