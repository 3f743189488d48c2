"""minifer's three kinds of ``.npz`` file, told apart by their member names, so that a loader
given the wrong kind says which kind it got and which call reads that kind.
"""
MODEL_KEY = "__minifer_model__"  # a model file's JSON architecture
CHECKPOINT_KEY = "state"  # a training checkpoint's JSON position and counters

KINDS = {"model": ("a model file (minifer.save or model.save)", "minifer.load(path)"),
         "weights": ("a weights file (model.save_weights)", "model.load_weights(path)"),
         "checkpoint": ("a resumable training checkpoint (ModelCheckpoint(..., resumable=True))",
                        "model.fit(..., resume=path)"),
         "keras": ("a Keras .keras model file", "minifer.load(path)")}  # a zip, but not an .npz


def kind_of(names):
    names = set(names)
    if MODEL_KEY in names:
        return "model"
    if CHECKPOINT_KEY in names and any(name.startswith("weights/") for name in names):
        return "checkpoint"
    return "weights"


def check_kind(path, names, expected):
    """Raise a ValueError naming what ``path`` is if its members make it another kind than ``expected``."""
    kind = kind_of(names)
    if kind != expected:
        what, reader = KINDS[kind]
        raise ValueError(f"{str(path)!r} is {what}, not {KINDS[expected][0].split(' (')[0]}: read it with {reader}")
