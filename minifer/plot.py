"""PNG pictures: training curves (like the paper's Figs. 6-8), a confusion matrix, a photo's faces with
their emotions, and a video's emotions over time."""
import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.patches  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from .io import atomic_write  # noqa: E402


def _save(fig, path):
    """Write ``fig`` as a PNG to ``path`` (atomically) or to a binary file object."""
    if hasattr(path, "write"):
        fig.savefig(path, format="png", dpi=120, bbox_inches="tight")
    else:
        with atomic_write(os.fspath(path), "wb") as f:
            fig.savefig(f, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def training_curves(history, path, title=None):
    """Accuracy and loss per epoch, training and validation side by side."""
    history = getattr(history, "history", history)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("accuracy", "loss")):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in history:
                ax.plot(numpy.arange(1, len(history[key]) + 1), history[key], label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.set_title(f"model {metric}")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    _save(fig, path)


def confusion_matrix(cm, class_names, path, normalize=True, title="Confusion matrix"):
    """Rows are true classes, columns predictions; cells show row-normalised rates and counts."""
    cm = numpy.asarray(cm)
    rates = cm / numpy.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = 1.0 + 0.8 * len(class_names)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            text = f"{rates[i, j]:.2f}\n({cm[i, j]})" if normalize else f"{cm[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if rates[i, j] > 0.5 * rates.max() else "black")
    _save(fig, path)


FACE_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4")
MAX_FACE_CHARTS = 4  # a crowd photo still gets one readable picture: the largest faces' charts
MAX_ASPECT = 4  # a photo wider (or taller) than this is stretched to fit, so a figure stays a few inches


def faces_figure(image, faces, path, title=None):
    """``image`` with a box and the top label per face, and beside it a bar chart of each of the
    largest faces' class probabilities (``faces`` as ``minifer.predict_faces`` gives them)."""
    charts = faces[:MAX_FACE_CHARTS]
    height = 4.0
    aspect = image.shape[1] / image.shape[0]
    width = height * min(max(aspect, 1 / MAX_ASPECT), MAX_ASPECT)  # a 1024x1 photo: 16 inches, not 4,096
    fig = plt.figure(figsize=(width + (2.6 if charts else 0), height))
    grid = fig.add_gridspec(max(len(charts), 1), 2 if charts else 1,
                            width_ratios=[width, 2.6] if charts else [1], wspace=0.25, hspace=0.6)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None,
              aspect="equal" if 1 / MAX_ASPECT <= aspect <= MAX_ASPECT else "auto")
    ax.set_axis_off()
    ax.set_title(title or (f"{len(faces)} face{'s' if len(faces) != 1 else ''}" if faces else "no face found"),
                 fontsize=9)
    for i, face in enumerate(faces):
        top, left, h, w = face["box"]
        colour = FACE_COLOURS[i % len(FACE_COLOURS)]
        ax.add_patch(matplotlib.patches.Rectangle((left, top), w, h, fill=False, edgecolor=colour, linewidth=2))
        ax.text(left, top - 3, f"{i + 1}: {face['label']} {face['probabilities'][face['label']]:.2f}", color="white",
                fontsize=8, va="bottom", bbox=dict(facecolor=colour, edgecolor="none", pad=1.5))
    for i, face in enumerate(charts):
        bar = fig.add_subplot(grid[i, 1])
        names = list(face["probabilities"])
        values = [face["probabilities"][n] for n in names]
        bar.barh(range(len(names)), values, color=[FACE_COLOURS[i % len(FACE_COLOURS)] if n == face["label"]
                                                   else "#bbbbbb" for n in names])
        for row, value in enumerate(values):
            bar.text(min(value, 0.78) + 0.02, row, f"{value:.2f}", va="center", fontsize=6)
        bar.set_yticks(range(len(names)), names, fontsize=7)
        bar.invert_yaxis()
        bar.set_xlim(0, 1)
        bar.tick_params(axis="x", labelsize=7)
        bar.set_title(f"face {i + 1}", fontsize=8)
    _save(fig, path)


def emotion_timeline(times, probabilities, class_names, path, title=None):
    """A video's emotions over time: each class's probability for the largest face per sampled frame
    (``probabilities`` (frames, classes), NaN rows where no face was found, shaded), under a strip
    coloured by the most likely class. The figure's size is fixed, whatever the video's length."""
    times = numpy.asarray(times, float)
    probabilities = numpy.asarray(probabilities, float).reshape(len(times), len(class_names))
    minutes = len(times) and times[-1] > 180
    x = times / 60 if minutes else times
    colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(len(class_names))]
    fig, (strip, ax) = plt.subplots(2, 1, figsize=(10, 3.8), sharex=True,
                                   gridspec_kw={"height_ratios": [1, 9]})
    found = ~numpy.isnan(probabilities).any(axis=1)
    marker = "o" if len(times) < 60 else None
    for i, name in enumerate(class_names):
        ax.plot(x, probabilities[:, i], color=colours[i], linewidth=1.2, marker=marker, markersize=3, label=name)
    if len(times):
        middles = (x[1:] + x[:-1]) / 2 if len(x) > 1 else numpy.empty(0)
        step = x[1] - x[0] if len(x) > 1 else 1.0
        edges = numpy.concatenate([[x[0] - step / 2], middles, [x[-1] + step / 2]])  # a bin per sample
        ax.stairs((~found).astype(float), edges, fill=True, color="0.88", label="no face")
        top = numpy.where(found, numpy.argmax(numpy.nan_to_num(probabilities, nan=-1), axis=1), -1)
        for i in range(len(class_names)):
            strip.stairs((top == i).astype(float), edges, fill=True, color=colours[i])
    strip.set_yticks([])
    strip.set_ylabel("top", rotation=0, ha="right", va="center", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (min)" if minutes else "time (s)")
    ax.set_ylabel("probability (largest face)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    strip.set_title(title or f"{len(times)} frames sampled, faces in {int(found.sum())}", fontsize=9)
    _save(fig, path)
