"""One process of the distributed tests (tests/test_distributed.py starts it under ``mpiexec``, or
alone): ``python distributed_job.py SCENARIO OUT [options]``. It trains small models on fixed data
and writes what the test compares to ``OUT/<scenario>-<rank>.npz``."""
import argparse
import os
import signal
import sys

import numpy

import minifer
from minifer import layers as L

N, SHAPE, CLASSES = 150, (6, 6, 1), 3  # 150 samples: not a multiple of 2 x 32, 3 x 21 or 64


def data(n=N, seed=0):
    rng = numpy.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    x = rng.integers(0, 256, (n, *SHAPE)).astype(numpy.uint8)
    x[numpy.arange(n), y, y] = 255  # a learnable pixel per class
    return x, y


def model(batchnorm):
    minifer.random.seed(1)
    with L.fresh_names():
        x = minifer.Input(SHAPE, pixel_range=(0, 1))
        h = L.Conv2D(4, 3, padding="same", use_bias=not batchnorm)(x)
        h = L.ReLU()(L.BatchNormalization()(h) if batchnorm else h)
        if batchnorm:  # a second BatchNorm sees the first's batch-normalised output: batches must match
            h = L.ReLU()(L.BatchNormalization()(L.Conv2D(4, 3, padding="same", use_bias=False)(h)))
        y = L.Dense(CLASSES, activation="softmax")(L.Flatten()(h))
        m = minifer.Model(x, y)
    m.compile(minifer.optimizers.Adam(0.01, clipnorm=1.0), metrics=["accuracy"])
    return m


class Events(minifer.callbacks.Callback):
    """Records each step's global sample count; on the ``at``-th step of rank ``rank``, acts; after
    the first step, rank 0 creates the file ``ready`` (a test waits for it before a Ctrl-C)."""

    def __init__(self, at=None, rank=0, action=None, ready=None):
        self.at, self.rank, self.action, self.ready, self.seen = at, rank, action, ready, []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(self.run.running[2])
        if self.ready and len(self.seen) == 1 and self.run.comm.is_chief:
            open(self.ready, "w").close()
        if self.action and len(self.seen) == self.at and self.run.comm.rank == self.rank:
            self.action()


ACTIONS = {"interrupt": lambda: os.kill(os.getpid(), signal.SIGINT), "kill": lambda: os.kill(os.getpid(), signal.SIGKILL),
           "raise": lambda: (_ for _ in ()).throw(ValueError("a bad batch on this rank"))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["train", "statistics"])
    parser.add_argument("out")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batchnorm", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--resume")
    parser.add_argument("--checkpoint")
    parser.add_argument("--act", choices=sorted(ACTIONS))
    parser.add_argument("--at", type=int, default=3)
    parser.add_argument("--act-rank", type=int, default=0)
    parser.add_argument("--ready")
    args = parser.parse_args()
    minifer.set_device(args.device)
    comm = minifer.distributed.init()
    m = model(args.batchnorm)
    x, y = data()
    vx, vy = data(70, seed=5)
    result = {}
    if args.scenario == "train":
        events = Events(args.at, args.act_rank, ACTIONS[args.act] if args.act else None, args.ready)
        callbacks = [events] + ([minifer.callbacks.ModelCheckpoint(args.checkpoint, resumable=True)]
                                if args.checkpoint else [])
        m.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, validation_data=(vx, vy),
              callbacks=callbacks, resume=args.resume, distribute=comm)
        result = {"seen": numpy.array(events.seen), "interrupted": numpy.array(m.interrupted),
                  "val_loss": numpy.array(m.history.history.get("val_loss", []))}
    else:  # precise BN and evaluation of the seeded weights, shared out between the processes
        m.recompute_batchnorm(x, max_images=101, batch_size=16, distribute=comm)
        result = {"figures": numpy.array(m.evaluate(vx, vy, batch_size=16, verbose=0, distribute=comm))}
    numpy.savez(os.path.join(args.out, f"{args.scenario}-{comm.rank}.npz"), size=comm.size,
                weights=numpy.concatenate([w.numpy().ravel().astype(numpy.float64) for w in m.weights]), **result)
    sys.exit(130 if m.interrupted else 0)


if __name__ == "__main__":
    main()
