"""Command line: ``python -m minifer summary arch1`` prints a network's Keras-style table;
``python -m minifer predict photo.jpg --model fer`` gives the emotions of the faces in photos.

Training and evaluation scripts live in ``examples/``; this entry point inspects and runs models.
"""
import argparse
import os
import sys

from .. import models
from ..backend import DeviceError, get_device, set_device
from . import predict


def _shape(text):
    try:
        return tuple(int(d) for d in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes separated by commas, like 48,48,1; got {text!r}")


def main(argv=None):
    device = argparse.ArgumentParser(add_help=False)  # --device before or after the command
    device.add_argument("--device", choices=("cpu", "gpu"), default=argparse.SUPPRESS,
                        help="where models are built and run (default: MINIFER_DEVICE, else cpu)")
    parser = argparse.ArgumentParser(prog="python -m minifer", parents=[device],
                                     description="minifer: a small, readable NumPy/CuPy deep-learning library "
                                                 "reproducing Chowanda 2021's separable CNNs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    summary = commands.add_parser("summary", parents=[device],
                                  help="print a network's layers, output shapes and parameter counts",
                                  description="Print model.summary() of a built-in network: "
                                              + ", ".join(models.BUILDERS) + ".")
    summary.add_argument("model", choices=list(models.BUILDERS), help="which network")
    summary.add_argument("--input-shape", type=_shape,
                         help="per-example shape, e.g. 48,48,1 (default: 48,48,1 for ARCH-1..4, 64,64,1 for "
                              "mini_xception)")
    summary.add_argument("--classes", type=int, default=7, help="number of classes (default 7)")
    summary.add_argument("--line-length", type=int, help="minimum table width in characters")
    predict_parser = predict.add_parser(commands, [device])
    args = parser.parse_args(predict.joined_negative_values(sys.argv[1:] if argv is None else argv))
    try:  # the flag, else MINIFER_DEVICE: either one fails here, in one line, before any work
        set_device(args.device) if getattr(args, "device", None) else get_device()
    except (DeviceError, ValueError) as error:
        parser.error(str(error))
    if args.command == "predict":
        return predict.run(args, predict_parser)

    kwargs = {"num_classes": args.classes}
    if args.input_shape:
        kwargs["input_shape"] = args.input_shape
    try:
        model = models.get(args.model, **kwargs)
    except ValueError as error:  # ShapeError included: an input too small for the network
        parser.error(str(error))
    try:
        sys.stdout.write(model.summary(print_fn=lambda line: None, line_length=args.line_length))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0

