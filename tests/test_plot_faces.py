"""The annotated figure of a photo's faces: every face has its card, whatever the count; the numbers on
the photo never overlap one another; the figure's size is bounded for a photo of any proportions."""
import io

import numpy
import pytest

from minifer import plot

Image = pytest.importorskip("PIL.Image")
NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def faces_at(boxes, seed=0):
    rng = numpy.random.default_rng(seed)
    faces = []
    for box in boxes:
        p = rng.dirichlet(numpy.ones(len(NAMES)))
        faces.append({"box": list(box), "probabilities": dict(zip(NAMES, p.tolist())),
                      "label": NAMES[int(numpy.argmax(p))]})
    return faces


def numbers_on_photo(fig):
    photo = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    return {t.get_text(): t.get_window_extent(renderer) for t in photo.texts}


@pytest.mark.parametrize("count", [1, 6, 60, 150])
def test_every_face_has_a_card_and_no_two_numbers_overlap(count):
    """Boxes of 20x16 pixels scattered over a 512x512 photo, many overlapping: 150 cannot all be numbered
    on the photo, and those left out are on their cards only."""
    rng = numpy.random.default_rng(count)
    faces = faces_at([(int(y), int(x), 20, 16) for y, x in rng.uniform(0, 490, (count, 2))])
    fig = plot.faces_layout(numpy.zeros((512, 512, 3), numpy.uint8), faces, title="crowd")
    cards = [t.get_text() for t in fig.axes[1].texts if ": " in t.get_text()]
    assert [c.split(":")[0] for c in cards] == [str(i) for i in range(1, count + 1)]
    placed = numbers_on_photo(fig)
    assert set(placed) <= {str(i) for i in range(1, count + 1)} and len(placed) >= min(count, 40)
    extents = list(placed.values())
    assert not any(a.overlaps(b) for i, a in enumerate(extents) for b in extents[i + 1:])
    frame = fig.axes[0].get_window_extent()
    assert all(frame.contains(e.x0, e.y0) and frame.contains(e.x1, e.y1) for e in extents)


@pytest.mark.parametrize("shape", [(1, 100000), (100000, 1), (600, 512), (683, 1024)])
def test_the_figure_is_bounded_for_any_proportions(shape):
    image = numpy.full((*shape, 3), 128, numpy.uint8)
    buffer = io.BytesIO()
    plot.faces_figure(image, faces_at([(0, 0, 1, 1)] * 3), buffer, title="odd")
    width, height = Image.open(buffer).size
    assert width <= 11.5 * 120 + 60 and height <= 5.4 * 120 + 60  # inches at 120 dpi, a margin for the edges


@pytest.mark.parametrize("count", range(1, 200, 7))
def test_the_cards_fit_their_panel_at_a_bounded_size(count):
    columns, unit = plot.card_grid(count, plot.CARDS_WIDTH, 5.0)
    rows = -(-count // columns)
    assert 0 < unit <= plot.MAX_CARD and columns * unit * plot.CARD_ASPECT <= plot.CARDS_WIDTH + 1e-9
    assert rows * unit <= 5.0 + 1e-9 and columns * (rows - 1) < count  # no empty row


def test_one_face_gets_one_card_not_the_whole_panel():
    fig = plot.faces_layout(numpy.zeros((500, 500, 3), numpy.uint8), faces_at([(100, 100, 80, 60)]))
    assert fig.get_size_inches()[0] <= 5.0 + 0.25 + plot.MAX_CARD * plot.CARD_ASPECT + 1e-9
