"""``load_ferplus``: FER2013's images with the FER+ relabelling (fer2013new.csv).

fer2013new.csv has one row per fer2013.csv row, in the same order, with 10 annotator
votes over ``neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
unknown, NF``.  Each kept row gets the class with the most votes; a tie between
emotions goes to the one listed first in that column order (so neutral wins ties), a
row whose image name is empty (not a face) or where ``unknown`` or ``NF`` has the most
votes (ties included) is dropped.
"""
from pathlib import Path

import numpy as np

from .classes import FERPLUS_CLASSES
from .errors import DataError, DataNotFoundError, Problems, open_regular, where
from .fer2013 import fer2013_table, select_usage
from .fer2013_csv import MAX_LINE, USAGES, read_line

_VOTE_COLUMNS = FERPLUS_CLASSES + ("unknown", "nf")
MAX_VOTES = 10**6  # far above FER+'s 10 annotators, far below int64's overflow


def read_ferplus_votes(path):
    """``(usage names, image names, votes (N, 10) int64, lines)`` of fer2013new.csv."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist. FER+ labels (fer2013new.csv) come "
                                f"from https://github.com/microsoft/FERPlus")
    with open_regular(path) as f:
        return _read_votes(f, path)


def _read_votes(f, path):
    """The rows of fer2013new.csv read line by line (at most MAX_LINE bytes each), so memory follows
    the rows kept, not the file (300 MB of blank lines cost 4.9 GB when it was read whole)."""
    columns = [c.strip().lower() for c in read_line(f)[0].decode("utf-8-sig", errors="replace").split(",")]
    missing = [c for c in ("usage", "image name") + _VOTE_COLUMNS if c not in columns]
    if missing:
        raise DataError(f"{where(path, 1)}: header lacks {', '.join(missing)}; expected "
                        f"Usage,Image name,{','.join(_VOTE_COLUMNS[:-1])},NF")
    vote_cols = [columns.index(c) for c in _VOTE_COLUMNS]
    usage, names, votes, lines = [], [], [], []
    i = 1
    while True:
        line, too_long = read_line(f)
        if not line:
            break
        i += 1
        if too_long:
            raise DataError(f"{where(path, i)}: is longer than {MAX_LINE} bytes, expected one row of votes")
        raw = line.decode("utf-8", errors="replace")
        if not raw.strip():
            continue
        fields = [field.strip() for field in raw.split(",")]
        if len(fields) != len(columns):
            raise DataError(f"{where(path, i)}: has {len(fields)} fields, expected {len(columns)}")
        try:
            row_votes = [int(fields[c]) for c in vote_cols]
        except ValueError:
            raise DataError(f"{where(path, i)}: vote counts must be integers, found "
                            f"{[fields[c] for c in vote_cols]}") from None
        if min(row_votes) < 0 or max(row_votes) > MAX_VOTES:
            raise DataError(f"{where(path, i)}: vote counts {row_votes}, expected counts "
                            f"0-{MAX_VOTES} (FER+ has 10 annotators)")
        usage.append(fields[columns.index("usage")])
        names.append(fields[columns.index("image name")])
        votes.append(row_votes)
        lines.append(i)
    return usage, names, np.asarray(votes, np.int64).reshape(-1, len(_VOTE_COLUMNS)), lines


def ferplus_labels(votes):
    """Majority label per row (first column wins ties) and whether the row is kept."""
    winner = np.argmax(votes, axis=1)  # argmax returns the first maximum: the tie rule
    best = votes.max(axis=1)
    rejected = (votes[:, len(FERPLUS_CLASSES):] == best[:, None]).any(axis=1)
    return winner.astype(np.int64), ~rejected & (best > 0)


def load_ferplus(fer2013_csv, fer2013new_csv, usage=None, cache=True, report=None):
    """FER2013 images with FER+ majority labels in FERPLUS_CLASSES order.

    Dropped rows (non-faces, unknown/NF winners) are listed in ``report.skipped``.
    Rows are matched by line number, and each row's Usage must agree between the two
    files (a mismatch means they are not the same release, and raises DataError).
    """
    table = fer2013_table(fer2013_csv, skip_bad=False, cache=cache)
    usage_names, names, votes, lines = read_ferplus_votes(fer2013new_csv)
    if len(names) != len(table["labels"]):
        raise DataError(f"{fer2013new_csv} has {len(names)} rows but {fer2013_csv} has "
                        f"{len(table['labels'])}; they must be the same release, row for row")
    for i, (name, code) in enumerate(zip(usage_names, table["usage"])):
        if name != USAGES[code]:
            raise DataError(f"{where(fer2013new_csv, lines[i])}: Usage {name!r} but line "
                            f"{table['lines'][i]} of {fer2013_csv} says {USAGES[code]!r}")
    labels, kept = ferplus_labels(votes)
    not_face = np.array([n == "" for n in names], bool)
    keep = kept & ~not_face & select_usage(table, usage, source=fer2013_csv)
    if report is not None:  # dropping these is the protocol, so no warning
        dropped = Problems()
        for i in np.flatnonzero(~(kept & ~not_face)):
            dropped.add(f"{where(fer2013new_csv, lines[i])}: "
                        f"{'not a face' if not_face[i] else 'unknown/NF wins the vote'}")
        report.add(dropped)
    return table["images"][keep], labels[keep]
