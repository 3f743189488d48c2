"""Peak resident memory of one library's training step or inference call, in a process of its own.

    python benchmarks/_memory.py --lib minifer|torch|onnxruntime --what train|infer --batch B
        [--model arch1] [--threads N] [--steps 3] [--onnx FILE]

train_step.py and latency.py time minifer and PyTorch in one process, where neither's peak can be
told apart; so each memory figure comes from a fresh interpreter that imports only the library
measured (``measure`` starts it). After the imports, the model and data (and Adam, or ONNX
Runtime's session) are set up, the RSS is read and the kernel's high-water mark is reset
(``/proc/self/clear_refs``); ``--steps`` calls follow, the first of which also allocates what is
made lazily (Adam's moments, kernel caches). Prints JSON: ``setup_mib`` (the RSS before the
steps), ``peak_mib`` (the high-water mark over the steps) and ``step_mib`` (their difference: what
the step itself holds at its peak). ``reset`` is false where the kernel refused the reset; then
``peak_mib`` is the process's lifetime peak, imports included. Linux only (/proc).
"""
import argparse
import json
import subprocess
import sys

from _common import load_torch, minifer_steps, set_threads, torch_steps


def measure(lib, what, batch, threads, model="arch1", steps=3, onnx=None):
    """Run this file in a fresh interpreter; its JSON figures as a dict."""
    cmd = [sys.executable, __file__, "--lib", lib, "--what", what, "--batch", str(batch),
           "--threads", str(threads), "--model", model, "--steps", str(steps)]
    cmd += ["--onnx", onnx] if onnx else []
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def cell(figures):
    """'peak (+step)' in MiB, e.g. '412 (+180)'; '-' for no figures."""
    return f"{figures['peak_mib']:.0f} (+{figures['step_mib']:.0f})" if figures else "-"


def status_mib(field):
    """A /proc/self/status field (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    """Reset VmHWM (and ru_maxrss) to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def onnx_infer(path, batch, threads):
    """A batch through the file's session, shaped as its one input is (PyTorch's NCHW, minifer's NHWC)."""
    import numpy
    from _onnx import session
    sess = session(path, threads)
    entry = sess.get_inputs()[0]
    x = numpy.random.default_rng(0).standard_normal((batch, *entry.shape[1:]), dtype=numpy.float32)
    return lambda: sess.run(None, {entry.name: x})


def main():
    threads = set_threads(sys.argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=("minifer", "torch", "onnxruntime"), required=True)
    parser.add_argument("--what", choices=("train", "infer"), required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--model", default="arch1")
    parser.add_argument("--threads", type=int, default=threads)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--onnx", help="the exported model, for --lib onnxruntime (inference only)")
    args = parser.parse_args()
    if args.lib == "onnxruntime" and (args.what == "train" or not args.onnx):
        parser.error("--lib onnxruntime measures inference of an --onnx file")
    if args.lib == "minifer":
        _, train, infer = minifer_steps(args.model, args.batch)
    elif args.lib == "torch":
        _, train, infer = torch_steps(load_torch(threads), args.model, args.batch)
    else:
        train, infer = None, onnx_infer(args.onnx, args.batch, threads)
    run = train if args.what == "train" else infer
    setup = status_mib("VmRSS")
    reset = reset_peak()
    for _ in range(args.steps):
        run()
    peak = status_mib("VmHWM")
    print(json.dumps({"lib": args.lib, "what": args.what, "batch": args.batch, "threads": threads,
                      "setup_mib": round(setup, 1), "peak_mib": round(peak, 1),
                      "step_mib": round(peak - setup, 1), "reset": reset}))


if __name__ == "__main__":
    main()
