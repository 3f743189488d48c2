"""Fast, strict parser for the FER2013 CSV files (fer2013.csv, icml_face_data.csv,
train.csv, test.csv).

35,887 rows of 2,304 numbers each are too many for the csv module plus ``int()`` per
pixel (about a minute).  Rows are instead split on commas in Python, each pixel field
is checked with C-speed byte operations (only digits and single spaces, exactly 2,303
spaces), and the pixels of all checked rows are converted by ``np.fromstring``
in chunks.  Only rows that fail those checks take the slow, precise path that says
what is wrong, so the message for a bad row is exact and the good rows stay fast.
"""
import numpy as np

from .errors import MAX_MESSAGES, DataError, Problems, open_regular, where

SIDE = 48
N_PIXELS = SIDE * SIDE
N_CLASSES = 7
USAGES = ("Training", "PublicTest", "PrivateTest", "Test")  # codes 0..3
TEST = 3  # rows of an unlabelled test.csv, or of a folder copy's test/
_DIGITS_AND_SPACE = b"0123456789 "
_CHUNK_ROWS = 2048
MAX_LINE = 1 << 16  # bytes; a real row is under 10 KB (2,304 values of at most 4 bytes)


def read_csv_table(path):
    """Parse a FER2013-style CSV into arrays.

    Returns a dict with ``images`` (N, 48, 48, 1) uint8, ``labels`` int64 (-1 where the
    file has no emotion column), ``usage`` uint8 codes into :data:`USAGES`, ``lines``
    (1-based line of each row), and ``skipped``/``n_skipped`` (the first messages about
    bad rows, by line, and their count; see :class:`~minifer.data.errors.Problems`).
    A file without a Usage column is all Training if it has labels (train.csv) and all
    Test if it has none (test.csv).  Lines are read one at a time, at most
    :data:`MAX_LINE` bytes each, so memory follows the good rows, not the file.
    """
    with open_regular(path) as f:
        header = read_line(f)[0].decode("utf-8-sig", errors="replace").strip()
        columns = [c.strip().strip('"').lower() for c in header.split(",")]
        if "pixels" not in columns:
            raise DataError(f"{where(path, 1)}: expected a header naming a 'pixels' column "
                            f"(like emotion,pixels,Usage), found {header[:80]!r}")
        rows = _read_rows(f, path, columns, header)
    labels, usage, line_numbers, fast_fields, slow_pixels, problems, n_problems = rows
    images, out_of_range = _convert_fast_rows(fast_fields, slow_pixels)
    for pos in out_of_range:
        line = line_numbers[pos]
        try:
            _parse_pixels_slowly(fast_fields[pos])
        except ValueError as e:
            problems.append((line, f"{where(path, line)}: {e}"))
    keep = np.ones(len(labels), bool)
    keep[out_of_range] = False
    if not labels and not n_problems:
        raise DataError(f"{path}: has a header but no data rows")
    # the first MAX_MESSAGES by line are among the first streamed ones and the out-of-range rows
    messages = [m for _, m in sorted(problems)[:MAX_MESSAGES]]
    return {
        "images": images[keep],
        "labels": np.asarray(labels, np.int64)[keep],
        "usage": np.asarray(usage, np.uint8)[keep],
        "lines": np.asarray(line_numbers, np.int64)[keep],
        **Problems(messages, n_problems + len(out_of_range)).arrays("skipped"),
    }


def read_line(f):
    """``(line, too_long)``: the next line, or its first MAX_LINE bytes and True, skipping the rest."""
    raw = f.readline(MAX_LINE)
    if len(raw) < MAX_LINE or raw.endswith(b"\n"):
        return raw, False
    while True:  # drop the rest of an overlong line without keeping it
        rest = f.readline(MAX_LINE)
        if len(rest) < MAX_LINE or rest.endswith(b"\n"):
            return raw, True


def _read_rows(f, path, columns, header):
    """Check every data line; good rows' fields are kept, bad rows only counted (the first
    MAX_MESSAGES messages kept)."""
    col_pixels = columns.index("pixels")
    col_label = columns.index("emotion") if "emotion" in columns else None
    col_usage = columns.index("usage") if "usage" in columns else None
    default_usage = 0 if col_label is not None else TEST
    labels, usage, line_numbers, fast_fields, problems = [], [], [], [], []
    n_problems = 0
    slow_pixels = {}  # row position -> pixels of a row that needed the slow path
    line = 1

    def bad(message):
        nonlocal n_problems
        n_problems += 1
        if len(problems) < MAX_MESSAGES:
            problems.append((line, f"{where(path, line)}: {message}"))

    while True:
        raw, too_long = read_line(f)
        if not raw:
            break
        line += 1
        if too_long:
            bad(f"is longer than {MAX_LINE} bytes, expected one row of 48x48 pixels")
            continue
        if not raw.strip():
            continue
        fields = raw.split(b",")
        if len(fields) != len(columns):
            bad(f"has {len(fields)} comma-separated fields, expected {len(columns)} ({header})")
            continue
        try:
            label = _parse_label(fields[col_label]) if col_label is not None else -1
            code = _parse_usage(fields[col_usage]) if col_usage is not None else default_usage
        except ValueError as e:
            bad(e)
            continue
        pixels = fields[col_pixels].strip().strip(b'"')
        if (pixels.count(b" ") != N_PIXELS - 1 or b"  " in pixels or pixels[:1] == b" " or pixels[-1:] == b" "
                or pixels.translate(None, _DIGITS_AND_SPACE)):  # else exactly 2,304 numbers, for the fast path
            try:
                slow_pixels[len(labels)] = _parse_pixels_slowly(pixels)
            except ValueError as e:
                bad(e)
                continue
            pixels = None
        labels.append(label)
        usage.append(code)
        line_numbers.append(line)
        fast_fields.append(pixels)
    return labels, usage, line_numbers, fast_fields, slow_pixels, problems, n_problems


def _parse_label(field):
    text = field.strip().strip(b'"').decode(errors="replace")
    if not (text.isascii() and text.isdigit()) or int(text) >= N_CLASSES:
        raise ValueError(f"emotion is {text!r}, expected an integer 0-{N_CLASSES - 1}")
    return int(text)


def _parse_usage(field):
    text = field.strip().strip(b'"').decode(errors="replace")
    if text not in USAGES[:3]:
        raise ValueError(f"Usage is {text!r}, expected one of {', '.join(USAGES[:3])}")
    return USAGES.index(text)


def _parse_pixels_slowly(pixels):
    """Pixels of one row, or a ValueError that says exactly what is wrong."""
    tokens = pixels.split()
    if len(tokens) != N_PIXELS:
        raise ValueError(f"has {len(tokens)} pixel values, expected {N_PIXELS} (48x48)")
    for k, token in enumerate(tokens):
        if not (token.isascii() and token.isdigit()):
            raise ValueError(f"pixel {k + 1} is {token.decode(errors='replace')!r}, "
                             f"expected an integer 0-255")
        if int(token) > 255:
            raise ValueError(f"pixel {k + 1} is {int(token)}, outside 0-255")
    return np.array([int(t) for t in tokens], np.uint8)


def _convert_fast_rows(fast_fields, slow_pixels):
    """Convert the checked rows chunk-wise; return images and rows with values > 255."""
    n = len(fast_fields)
    images = np.empty((n, N_PIXELS), np.uint8)
    for pos, pixels in slow_pixels.items():
        images[pos] = pixels
    fast_positions = [p for p in range(n) if fast_fields[p] is not None]
    out_of_range = []
    for start in range(0, len(fast_positions), _CHUNK_ROWS):
        chunk = fast_positions[start:start + _CHUNK_ROWS]
        text = b" ".join(fast_fields[p] for p in chunk)
        values = np.fromstring(text, dtype=np.int64, sep=" ").reshape(len(chunk), N_PIXELS)
        too_big = values.max(axis=1) > 255
        out_of_range.extend(np.asarray(chunk)[too_big].tolist())
        images[chunk] = values.astype(np.uint8)
    return images.reshape(n, SIDE, SIDE, 1), out_of_range


def _pixel_text_table():
    """(256, 4) bytes: the decimal digits of each value, a space, NUL padding."""
    table = np.zeros((256, 4), np.uint8)
    for v in range(256):
        text = f"{v} ".encode()
        table[v, :len(text)] = np.frombuffer(text, np.uint8)
    return table


def pixel_rows_text(images):
    """Each image's pixels as one ``b'0 12 255 ...'`` field, built without a Python
    loop over pixels (a table lookup, then NUL padding deleted by ``bytes.translate``)."""
    flat = np.asarray(images, np.uint8).reshape(len(images), -1)
    table = _pixel_text_table()
    return [table[row].tobytes().translate(None, b"\0")[:-1] for row in flat]


def write_fer2013_csv(path, images, labels=None, usage=None, layout="fer2013"):
    """Write images in a FER2013 CSV layout (to export data, and to test the readers).

    ``layout``: "fer2013" (emotion,pixels,Usage), "icml" (emotion, Usage, pixels),
    "train" (emotion,pixels) or "test" (pixels).  ``usage`` is one name per row.
    """
    rows = pixel_rows_text(images)
    n = len(rows)
    labels = [b"%d" % v for v in (labels if labels is not None else [0] * n)]
    usage = [u.encode() for u in (usage if usage is not None else ["Training"] * n)]
    if layout == "fer2013":
        lines = [b"emotion,pixels,Usage"] + [b",".join(r) for r in zip(labels, rows, usage)]
    elif layout == "icml":
        lines = [b"emotion, Usage, pixels"] + [b",".join(r) for r in zip(labels, usage, rows)]
    elif layout == "train":
        lines = [b"emotion,pixels"] + [b",".join(r) for r in zip(labels, rows)]
    elif layout == "test":
        lines = [b"pixels"] + rows
    else:
        raise ValueError(f"unknown layout {layout!r}")
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
