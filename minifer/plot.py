"""PNG pictures: training curves (like the paper's Figs. 6-8), a confusion matrix, a photo's faces with
their emotions, and a video's emotions over time."""
import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.collections  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.patheffects  # noqa: E402
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
PHOTO_BOX = (7.0, 5.0)  # inches (width, height) a photo is fitted into
MAX_ASPECT = 4  # a photo wider (or taller) than this is stretched to it: a 100000x1 photo is not 20,000 inches
CARDS_WIDTH = 4.2  # inches of face cards beside the photo, at most
CARD_ASPECT = 1.7  # a card's width over its height
MAX_CARD = 1.5  # inches a card is high at most: one face's card is not a poster of two words
NUMBER_POINTS = 8


def faces_figure(image, faces, path, title=None):
    """``image`` with a numbered box per face and, beside it, a card per face (number, top label and
    probability, the face's crop and a bar per class), ``faces`` as ``minifer.predict_faces`` gives
    them: every face, whatever the count, in a figure of at most 11.5 x 5.4 inches for a photo of any
    proportions. A number goes on the photo only where it overlaps no other, so none collide."""
    _save(faces_layout(image, faces, title), path)


def faces_layout(image, faces, title=None):
    """The figure of :func:`faces_figure`, unsaved."""
    shown = min(max(image.shape[1] / image.shape[0], 1 / MAX_ASPECT), MAX_ASPECT)
    width = min(PHOTO_BOX[0], PHOTO_BOX[1] * shown)
    height = width / shown
    top = 0.35  # inches for the title
    panel = max(height, 2.0 if faces else 0.0)
    columns, unit = card_grid(len(faces), CARDS_WIDTH, panel) if faces else (0, 0.0)
    cards, gap = columns * unit * CARD_ASPECT, (0.25 if faces else 0.0)  # gap: inches between photo and cards
    size = (width + gap + cards, panel + top)
    fig = plt.figure(figsize=size)
    ax = fig.add_axes((0, 0, width / size[0], height / size[1]))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, aspect="auto")
    ax.set_axis_off()
    count = f"{len(faces)} face{'s' if len(faces) != 1 else ''}" if faces else "no face found"
    ax.set_title(f"{title}: {count}" if title else count, fontsize=9)
    for i, face in enumerate(faces):
        top_, left, h, w = face["box"]
        ax.add_patch(matplotlib.patches.Rectangle((left - 0.5, top_ - 0.5), w, h, fill=False, linewidth=1.5,
                                                  edgecolor=FACE_COLOURS[i % len(FACE_COLOURS)]))
    _place_numbers(fig, ax, faces)
    if faces:
        cards_ax = fig.add_axes(((width + gap) / size[0], 0, cards / size[0], panel / size[1]))
        _face_cards(cards_ax, image, faces, columns, unit, panel)
    return fig


def card_grid(count, width, height):
    """(columns, card height in inches) of the grid that fits ``count`` cards into ``width`` x
    ``height`` inches at the largest size, at most ``MAX_CARD``."""
    def unit(columns):
        return min(width / columns / CARD_ASPECT, height / -(-count // columns), MAX_CARD)
    columns = max(range(1, count + 1), key=lambda c: (unit(c), -c))  # the fewest columns at that size
    return columns, unit(columns)


def _place_numbers(fig, ax, faces):
    """Each face's number just outside or inside a corner of its box, at the first place that stays on
    the photo and clear of the numbers placed before it; where there is none, only its card has it."""
    renderer, frame, placed = fig.canvas.get_renderer(), ax.get_window_extent(), []
    for i, face in enumerate(faces):
        top, left, h, w = face["box"]
        colour = FACE_COLOURS[i % len(FACE_COLOURS)]
        text = ax.text(0, 0, str(i + 1), fontsize=NUMBER_POINTS, color="white", fontweight="bold",
                       path_effects=[matplotlib.patheffects.withStroke(linewidth=2.5, foreground=colour)])
        for x, y, ha, va in ((left, top, "left", "bottom"), (left, top, "left", "top"),
                             (left + w, top, "right", "bottom"), (left, top + h, "left", "top"),
                             (left + w, top + h, "right", "top"), (left + w, top, "left", "top"),
                             (left, top, "right", "top"), (left, top + h, "right", "bottom")):
            text.set(x=x - 0.5, y=y - 0.5, ha=ha, va=va)
            extent = text.get_window_extent(renderer).padded(2)
            if frame.contains(extent.x0, extent.y0) and frame.contains(extent.x1, extent.y1) and \
                    not any(extent.overlaps(other) for other in placed):
                placed.append(extent)
                break
        else:
            text.remove()


def _face_cards(ax, image, faces, columns, unit, height):
    """A card per face, ``unit`` inches high, ``columns`` to a row, the rows spread down ``height``
    inches; every size on a card is a fraction of the card's, so its text fits at any scale."""
    rows = -(-len(faces) // columns)
    ax.set_xlim(0, columns * unit * CARD_ASPECT)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    title_points = min(0.14 * unit * 72, 10)
    body = 0.08 * unit + 1.5 * title_points / 72  # below the title: the crop and the bars
    names = list(faces[0]["probabilities"])
    pitch = min(0.62 * unit, unit - body - 0.04 * unit) / len(names)
    bars = []
    for i, face in enumerate(faces):
        x0, y0 = (i % columns) * unit * CARD_ASPECT, (i // columns) * height / rows
        colour = FACE_COLOURS[i % len(FACE_COLOURS)]
        label = face["label"]
        ax.text(x0 + 0.06 * unit, y0 + 0.05 * unit, f"{i + 1}: {label[:12]} {face['probabilities'][label]:.2f}",
                fontsize=title_points, color=colour, fontweight="bold", va="top", ha="left")
        top, left, h, w = face["box"]
        side = max(h, w)  # a square around the box, as the emotion model's crop is
        row, column = max(int(top + h / 2 - side / 2), 0), max(int(left + w / 2 - side / 2), 0)
        crop = image[row:row + side, column:column + side]
        if crop.size:  # fitted into the square beside the bars, keeping its proportions
            across, down = (len(names) * pitch * min(1, s / max(crop.shape[:2])) for s in crop.shape[1::-1])
            ax.imshow(crop, cmap="gray" if image.ndim == 2 else None, aspect="auto",
                      extent=(x0 + 0.06 * unit, x0 + 0.06 * unit + across, y0 + body + down, y0 + body))
        for row, name in enumerate(names):
            y = y0 + body + row * pitch
            ax.text(x0 + 1.08 * unit, y + pitch / 2, name[:10], fontsize=min(0.8 * pitch * 72, 0.09 * unit * 72),
                    ha="right", va="center")
            value = min(max(float(face["probabilities"][name]), 0.0), 1.0)
            for length, shade in ((1.0, "#eeeeee"), (value, colour if name == label else "#aaaaaa")):  # 0..1, value
                bars.append(matplotlib.patches.Rectangle((x0 + 1.1 * unit, y + 0.1 * pitch), 0.54 * unit * length,
                                                         0.8 * pitch, color=shade))
    ax.add_collection(matplotlib.collections.PatchCollection(bars, match_original=True))


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
