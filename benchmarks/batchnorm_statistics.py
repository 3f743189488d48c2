"""Inference accuracy after short runs with three kinds of BatchNorm statistics.

    python benchmarks/batchnorm_statistics.py [--models arch1,mini_xception] [--sizes 48,24]
                                              [--epochs 1,3,10] [--train 3000] [--seed 0]

Each network trains as ``fit(precise_bn=False)`` does (Keras's moving averages, momentum 0.99, at
the builders' defaults, Adam 0.001, batch 64) on the synthetic faces, at 48x48 and downscaled to
24x24. At the listed epochs the same weights are evaluated on the held-out test split with
(1) Keras's moving averages, (2) what ``fit`` now does by default: statistics re-estimated over
1,024 training images (``recompute_batchnorm``), and (3) exact population statistics over every
training image. Moving statistics never change the training-mode forward pass, so one run gives
all three columns. Prints a markdown table.
"""
import argparse

import numpy
from _common import cpu_name  # puts the checkout on sys.path

import minifer  # noqa: E402
from minifer import data, models  # noqa: E402
from minifer.training.trainer import PRECISE_BN_IMAGES  # noqa: E402


def downscale(images, size):
    """Average-pool uint8 (N, H, W, 1) images down by an integer factor."""
    factor = images.shape[1] // size
    n, h, w, c = images.shape
    pooled = images.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))
    return numpy.round(pooled).astype(numpy.uint8)


def rows_for(name, size, epochs, n_train, seed):
    splits = data.load_splits("synthetic", seed=seed, n_train=n_train, n_val=n_train // 5, n_test=n_train // 5)
    (x, y), (tx, ty) = splits.train, splits.test
    if size != x.shape[1]:
        x, tx = downscale(x, size), downscale(tx, size)
    minifer.random.seed(seed)
    model = models.get(name, input_shape=(size, size, 1))
    model.compile(minifer.optimizers.Adam(1e-3))
    source, rows = data.BatchSource(x, y, batch_size=64, seed=seed), []
    for epoch in range(max(epochs)):  # what fit(precise_bn=False) does, batch by batch
        for xb, yb, wb in source.epoch(epoch):
            model.train_on_batch(xb, yb, wb)
        if epoch + 1 not in epochs:
            continue
        moving = model.get_weights()
        keras = model.evaluate(tx, ty, verbose=0, return_dict=True)["accuracy"]
        model.recompute_batchnorm(x)
        precise = model.evaluate(tx, ty, verbose=0, return_dict=True)["accuracy"]
        model.recompute_batchnorm(x, max_images=len(x))
        exact = model.evaluate(tx, ty, verbose=0, return_dict=True)["accuracy"]
        model.set_weights(moving)  # training goes on from Keras's state, as if nobody had looked
        rows.append(f"| {name} | {size}x{size} | {epoch + 1} | {keras:.3f} | {precise:.3f} | {exact:.3f} | "
                    f"{100 * (keras - exact):+.1f} | {100 * (precise - exact):+.1f} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="arch1,mini_xception")
    parser.add_argument("--sizes", default="48,24")
    parser.add_argument("--epochs", default="1,3,10")
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = [int(e) for e in args.epochs.split(",")]
    print(f"{cpu_name()}; synthetic faces, {args.train} training images, test split {args.train // 5}; "
          f"precise BN over {PRECISE_BN_IMAGES} images\n")
    print("| Network | Input | Epochs | Keras moving averages | precise BN (fit's default) | exact population "
          "| Keras - exact (points) | precise - exact (points) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            for row in rows_for(name, size, epochs, args.train, args.seed):
                print(row, flush=True)


if __name__ == "__main__":
    main()
