"""How hard are minifer's synthetic faces?  A linear model vs a small CNN.

The synthetic set is the offline stand-in for FER2013 in examples and tests, so it
must not be solvable by template matching: softmax regression on raw pixels should
score far below a small CNN, while the CNN should learn it well (> ~80% held out)
within a couple of minutes on a CPU.  This script measures both and prints a table.

The CNN uses PyTorch (CPU) as an *independent reference* that does not depend on
minifer's own layers; PyTorch is imported only here, never by minifer.

    python -m benchmarks.synthetic_difficulty [--n-train 4000] [--epochs 12] [--threads 2]
"""
import argparse
import time

import numpy as np

from minifer.data import synthetic_faces


def standardise(train, *others):
    mean, std = train.mean(0), train.std(0) + 1e-6
    return [(a - mean) / std for a in (train,) + others]


def softmax_regression(x, y, x_val, y_val, n_classes, l2, steps=300, lr=0.05):
    """Full-batch Adam on the mean cross-entropy + l2*|W|^2; best step chosen on val."""
    w = np.zeros((x.shape[1], n_classes))
    b = np.zeros(n_classes)
    m_w, v_w, m_b, v_b = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    onehot = np.eye(n_classes)[y]
    best = (-1.0, w, b)
    for step in range(1, steps + 1):
        logits = x @ w + b
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(x)
        grads = (x.T @ g + 2 * l2 * w, g.sum(0))
        for param, grad, m, v in ((w, grads[0], m_w, v_w), (b, grads[1], m_b, v_b)):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad ** 2
            param -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        if step % 25 == 0:
            acc = ((x_val @ w + b).argmax(1) == y_val).mean()
            if acc > best[0]:
                best = (acc, w.copy(), b.copy())
    return best


def linear_accuracy(train, val, test):
    (x, y), (xv, yv), (xt, yt) = train, val, test
    x, xv, xt = standardise(*(a.reshape(len(a), -1).astype(np.float64) / 255 for a in (x, xv, xt)))
    results = []
    for l2 in (1e-4, 1e-3, 1e-2):
        acc, w, b = softmax_regression(x, y, xv, yv, 7, l2)
        results.append((acc, ((xt @ w + b).argmax(1) == yt).mean(), l2))
    best = max(results)
    return best[1], f"softmax regression, raw pixels (l2={best[2]:g} chosen on val)"


def cnn_accuracy(train, val, test, epochs, threads):
    import torch  # independent reference implementation; minifer never imports torch
    from torch import nn
    torch.manual_seed(0)
    torch.set_num_threads(threads)

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.MaxPool2d(2)]
    model = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), *block(64, 64),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 7))
    as_tensor = lambda a: torch.from_numpy(a.transpose(0, 3, 1, 2).astype(np.float32) / 255)  # noqa: E731
    x, y = as_tensor(train[0]), torch.from_numpy(train[1])
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=epochs * ((len(x) + 63) // 64))

    def accuracy(split):
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(b).argmax(1) for b in as_tensor(split[0]).split(500)])
        model.train()
        return (pred.numpy() == split[1]).mean()

    best_val, best_test = -1.0, 0.0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        val_acc = accuracy(val)
        if val_acc > best_val:
            best_val, best_test = val_acc, accuracy(test)
        print(f"  cnn epoch {epoch + 1}: val {val_acc:.3f} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    params = sum(p.numel() for p in model.parameters())
    return best_test, f"small CNN, PyTorch CPU ({params:,} params, epoch chosen on val)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-eval", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t = time.perf_counter()
    train = synthetic_faces(args.n_train, seed=(args.seed, 0))
    val = synthetic_faces(args.n_eval, seed=(args.seed, 1))
    test = synthetic_faces(args.n_eval, seed=(args.seed, 2))
    print(f"generated {args.n_train}+{2 * args.n_eval} faces in {time.perf_counter() - t:.1f} s")
    rows = []
    for measure in (lambda: linear_accuracy(train, val, test),
                    lambda: cnn_accuracy(train, val, test, args.epochs, args.threads)):
        t = time.perf_counter()
        acc, what = measure()
        rows.append((what, acc, time.perf_counter() - t))
    print(f"\n{'model':<62} {'test acc':>8} {'time':>7}")
    for what, acc, seconds in rows:
        print(f"{what:<62} {acc:>8.3f} {seconds:>6.0f}s")
    print(f"{'chance':<62} {1 / 7:>8.3f}")


if __name__ == "__main__":
    main()
