"""Train one of the paper's networks on facial-expression data and write one run folder.

    python examples/train.py --arch arch1 --data fer2013 --data-path data/fer2013.csv
    python examples/train.py --arch mini_xception --data synthetic --epochs 5
    mpiexec -n 4 python examples/train.py --arch arch1 --data fer2013 --batch-size 64   # data-parallel

Under ``mpiexec`` or ``srun`` every process trains its share of each step (``--batch-size`` is per
process) and only rank 0 prints and writes the run folder (docs/distributed.md).

The protocol is honest: train on the training split, choose the learning-rate schedule,
early stopping and the best checkpoint on the validation split, and report the test split
once at the end (FER2013: Training / PublicTest / PrivateTest; CK+: split by subject).
The run folder holds config.json, best.npz and last.npz (resumable checkpoints), model.npz
(the selected model, loadable with minifer.load), history.csv, curves.png,
confusion_matrix.png and metrics.json.
"""
import argparse
import inspect
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import minifer
from minifer import callbacks as cb
from minifer import data, metrics, models, plot
from minifer.data import DataError
from minifer.io import atomic_write
from minifer.training import TrainingDiverged
from minifer.training.checkpoint import read_checkpoint



def _l2(text):
    if text == "paper":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number or "paper", got {text!r}') from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a factor of 0 or more, got {text}")
    return value


def _checked(convert, ok, expected):
    """An argparse type that refuses, with argparse's usage message, what would fail later (a zero
    batch size divides by zero after the summary; zero epochs write NaN into metrics.json)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


MAX_SYNTHETIC = 100_000  # three FER2013s: 230 MB of faces, drawn in about a minute
_POSITIVE_INT = _checked(int, lambda v: v > 0, "a whole number > 0")
_COUNT = _checked(int, lambda v: v >= 0, "a whole number >= 0")
_POSITIVE = _checked(float, lambda v: 0 < v < math.inf, "a number > 0")
_FRACTION = _checked(float, lambda v: 0 <= v < 1, "a number from 0 up to (not including) 1")
_SYNTHETIC_SIZE = _checked(int, lambda v: 5 <= v <= MAX_SYNTHETIC,
                           f"a whole number from 5 to {MAX_SYNTHETIC} (validation and test get a fifth each)")
RESUME_MAY_CHANGE = ("resume", "out", "epochs", "device")  # all other settings must match the run's config.json


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written; defaults shown, except where the help text explains a default that
    depends on --data."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


class Interrupted(Exception):
    """Ctrl-C stopped training; the run's last.npz holds it (the caller prints how to go on)."""


def parse_args(argv=None, arch=None, description=__doc__, resume=True):
    """The settings of a run; ``resume=False`` for a script that continues runs its own way (paper_table.py).
    The device (``--device``, else ``MINIFER_DEVICE``) is checked here: a usage error before any folder exists."""
    p = argparse.ArgumentParser(description=description, formatter_class=_Help)
    if arch is None:
        p.add_argument("--arch", default="arch1", choices=sorted(models.BUILDERS), help="network to train")
    p.add_argument("--data", default="synthetic", choices=["fer2013", "ckplus", "folder", "synthetic"])
    p.add_argument("--data-path", default=None, help="dataset file or folder (fer2013: fer2013.csv or its folder)")
    p.add_argument("--synthetic-size", type=_SYNTHETIC_SIZE, default=3000,
                   help="synthetic training images (validation and test get a fifth each)")
    p.add_argument("--epochs", type=_POSITIVE_INT, default=200, help="most epochs (early stopping usually ends sooner)")
    p.add_argument("--batch-size", type=_POSITIVE_INT, default=None,
                   help="per process (under mpiexec a step takes this from each); default: 256 as in the paper, "
                        "10 for CK+ (the paper's), 64 for the 3,000 synthetic faces")
    p.add_argument("--lr", type=_POSITIVE, default=0.01, help="Adam learning rate (the paper's 0.01)")
    p.add_argument("--l2", type=_l2, default=models.DEFAULT_L2,
                   help='L2 factor on kernels, or "paper" for the paper\'s 0.2 (which keeps these networks near '
                        "chance; docs/training.md)")
    p.add_argument("--dropout", type=_FRACTION, default=0.5, help="dropout after hidden Dense layers (ARCH-2/4)")
    p.add_argument("--moving-bn", action="store_true",
                   help="keep Keras's moving BatchNorm averages instead of re-estimating the statistics at each "
                        "epoch's end (fit's precise_bn; docs/training.md)")
    p.add_argument("--patience", type=_COUNT, default=20, help="early-stopping patience on val_loss")
    p.add_argument("--lr-patience", type=_COUNT, default=8, help="epochs without val_loss improvement before lr /10")
    p.add_argument("--no-augment", action="store_true", help="train without the paper's augmentation")
    p.add_argument("--balanced", action="store_true", help="weight classes by inverse frequency")
    p.add_argument("--seed", type=_COUNT, default=0)
    p.add_argument("--out", default=None, help="run folder (default runs/<arch>-<data>-<time>)")
    if resume:
        p.add_argument("--resume", default=None, help="continue from a checkpoint (e.g. runs/x/last.npz)")
    p.add_argument("--device", default=None, choices=["cpu", "gpu"],
                   help="where to train (default: MINIFER_DEVICE, else cpu); gpu needs CuPy (docs/gpu.md)")
    args = p.parse_args(argv)
    args.resume = getattr(args, "resume", None)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        p.error(f"--out {args.out}: is a file, not a folder")
    try:  # before the data and the model: a model's weights are made on the device
        minifer.set_device(args.device) if args.device else minifer.get_device()
    except (minifer.DeviceError, ValueError) as error:
        p.error(str(error))
    if arch is not None:
        args.arch = arch
    if args.batch_size is None:
        args.batch_size = {"ckplus": 10, "synthetic": 64}.get(args.data, 256)
    return args


def main(argv=None, arch=None, description=__doc__):
    args = parse_args(argv, arch, description)
    comm = minifer.distributed.init()  # one process, or this one of an mpiexec/srun job
    try:
        return run(args, comm)
    except Interrupted as stop:
        if comm.is_chief:
            launcher = f"mpiexec -n {comm.size} " if comm.size > 1 else ""
            print(f"\nInterrupted: no model.npz or metrics.json written and the test split not evaluated. "
                  f"Resume with:\n  {launcher}"
                  f"{command_line(args, __file__, stop.args[0], resume=True)}", file=sys.stderr)
        sys.exit(130)  # the shell's code for a run stopped by Ctrl-C
    except TrainingDiverged as error:  # every process diverges together: each exits alike
        sys.exit(f"error: {error}")
    except (DataError, OSError) as error:  # maybe on one process: the others would wait for it for ever
        if comm.size == 1:
            sys.exit(f"error: {error}")
        print(f"error (rank {comm.rank} of {comm.size}): {error}", file=sys.stderr, flush=True)
        comm.abort(1)


def run(args, comm):
    """Train, select on validation, test once; returns the metrics dict written to metrics.json (None
    on the processes other than rank 0, which alone writes and tests). Raises Interrupted (with the
    run folder) when Ctrl-C stopped training."""
    size = args.synthetic_size
    options = {"n_train": size, "n_val": size // 5, "n_test": size // 5} if args.data == "synthetic" else {}
    if not comm.is_chief:
        comm.barrier()  # rank 0 reads the data first (and writes its cache); the others then read the cache
    splits = data.load_splits(args.data, args.data_path, seed=args.seed, **options)
    if comm.is_chief:
        comm.barrier()
    out = Path(args.out) if args.out else (Path(args.resume).parent if args.resume else
                                           Path("runs") / f"{args.arch}-{args.data}-{time.strftime('%Y%m%d-%H%M%S')}")
    resuming_run = args.resume and _check_resume(args, out / "config.json")
    if comm.is_chief:
        out.mkdir(parents=True, exist_ok=True)
        print(f"{splits.description}\nRun folder: {out}" + (f" ({comm.size} processes)" if comm.size > 1 else ""))

    minifer.random.seed(args.seed)
    options = {"input_shape": splits.train[0].shape[1:], "num_classes": len(splits.class_names),
               "l2": args.l2 or None}
    if "dropout" in inspect.signature(models.BUILDERS[args.arch]).parameters:  # ARCH-2/4 only
        options["dropout"] = args.dropout
    model = models.get(args.arch, **options)
    model.compile(minifer.optimizers.Adam(args.lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if comm.is_chief:
        model.summary()
    if args.resume:  # a checkpoint of another network or no checkpoint at all: refused before anything is written
        try:
            read_checkpoint(args.resume).fitted(model, model.optimizer)
        except ValueError as error:
            sys.exit(f"error: cannot resume from {args.resume}: {error}")
    if not resuming_run and comm.is_chief:  # a resumed run keeps the config.json it was started with
        with atomic_write(str(out / "config.json"), "w") as f:
            json.dump({**vars(args), "class_names": list(splits.class_names),
                       "data_description": splits.description, "model": model.get_config()}, f, indent=2)

    augmenter = None if args.no_augment else data.ImageAugmenter(
        rotation_range=20, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1, horizontal_flip=True)
    source = data.BatchSource(*splits.train, batch_size=args.batch_size, augmenter=augmenter, seed=args.seed,
                              class_weight="balanced" if args.balanced else None)
    callbacks = [
        cb.ReduceLROnPlateau("val_loss", factor=0.1, patience=args.lr_patience, min_lr=1e-5, verbose=1),
        cb.EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True, verbose=1),
        cb.ModelCheckpoint(out / "best.npz", monitor="val_loss", save_best_only=True, resumable=True),
        cb.ModelCheckpoint(out / "last.npz", resumable=True),
        cb.CSVLogger(out / "history.csv"),
    ]
    start = time.perf_counter()
    history = model.fit(source, epochs=args.epochs, validation_data=splits.val, callbacks=callbacks,
                        seed=args.seed, resume=args.resume, precise_bn=not args.moving_bn, distribute=comm)
    train_seconds = time.perf_counter() - start
    if model.interrupted:  # fit returns after Ctrl-C: stop before the test split is looked at
        raise Interrupted(out)
    if not comm.is_chief:  # the others hold the same weights: rank 0 alone saves and tests them
        return None
    model.metadata = {"class_names": list(splits.class_names)}  # for `minifer predict`
    minifer.save(model, str(out / "model.npz"))

    test_x, test_y = splits.test
    predicted = model.predict(test_x).argmax(axis=1)
    report, table = metrics.classification_report(test_y, predicted, splits.class_names)
    plot.training_curves(history, out / "curves.png", title=f"{args.arch} on {args.data}")
    plot.confusion_matrix(report["confusion_matrix"], splits.class_names, out / "confusion_matrix.png",
                          title=f"{args.arch} on {args.data} (test)")
    result = {
        "arch": args.arch, "data": args.data, "test_accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
        "val_accuracy_best": max(history.history.get("val_accuracy", [float("nan")])),
        "epochs_run": len(history.epoch), "train_seconds": round(train_seconds, 1),
        "params_total": model.count_params(),
        "params_trainable": sum(w.size for w in model.trainable_weights),
        "per_class": report["per_class"], "confusion_matrix": report["confusion_matrix"],
    }
    with atomic_write(str(out / "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nTest split, evaluated once with the weights chosen on validation:\n{table}")
    print(f"\nTest accuracy {report['accuracy']:.4f} after {len(history.epoch)} epochs in {train_seconds:.0f} s. "
          f"Results in {out}/")
    return result


def _check_resume(args, config_path):
    """Refuse a resume that would not continue the run in ``config_path``'s folder (a missing
    checkpoint, another --arch or other settings) before anything is written; True if there is
    a config.json to keep."""
    if not Path(args.resume).is_file():
        sys.exit(f"error: no checkpoint at {args.resume} (a run folder holds last.npz and best.npz)")
    if not config_path.is_file():
        return False  # a checkpoint without its run folder: nothing to compare with
    check_settings(args, config_path)
    return True


def check_settings(args, config_path):
    """Exit with what differs if ``args`` would not continue the run recorded in ``config_path``."""
    try:
        saved = json.loads(config_path.read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"error: {config_path} is not a run's config.json ({error}); start a new run with another --out")
    changed = [f"--{k.replace('_', '-')} {saved[k]} (now {v})" for k, v in vars(args).items()
               if k in saved and k not in RESUME_MAY_CHANGE and saved[k] != v]
    if changed:
        sys.exit(f"error: {config_path} was started with {', '.join(changed)}; resume with the run's own "
                 f"settings (only {', '.join('--' + k for k in RESUME_MAY_CHANGE)} may change), "
                 f"or start a new run with another --out")


def command_line(args, script, out, resume=False, skip=()):
    """The command that runs ``script`` with every setting of ``args`` (but ``skip``) and ``--out out``;
    with ``resume``, continuing the run from its last.npz."""
    words = [sys.executable, os.path.relpath(script)]
    for key, value in vars(args).items():
        if key not in ("out", "resume", *skip) and value is not None and value is not False:
            flag = "--" + key.replace("_", "-")
            words += [flag] if value is True else [flag, str(value)]
    return shlex.join(words + ["--out", str(out)] + (["--resume", str(Path(out) / "last.npz")] if resume else []))


if __name__ == "__main__":
    main()
