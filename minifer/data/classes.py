"""Class names of each dataset, in the label order of its files, and name matching.

Label orders differ between datasets (FER2013's CSV is not alphabetical, CK+'s is), and
image-folder copies spell classes differently (``fearful``/``fear``, ``sadness``/``sad``).
Folders are therefore always mapped to labels by *name* through :func:`class_index`,
never by their position in a directory listing.
"""
from .errors import DataError

FER2013_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CKPLUS_CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")
FERPLUS_CLASSES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust",
                   "fear", "contempt")

# Every spelling seen in public copies, mapped to one concept word.
_SYNONYMS = {
    "angry": "anger", "anger": "anger",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy",
    "sad": "sad", "sadness": "sad",
    "surprise": "surprise", "surprised": "surprise",
    "neutral": "neutral",
    "contempt": "contempt",
}


def concept(name):
    """The spelling-independent concept of a class name (``'Fearful'`` -> ``'fear'``)."""
    key = name.strip().lower()
    return _SYNONYMS.get(key, key)


def class_index(name, class_names, where="", dataset=""):
    """Index of ``name`` in ``class_names``, matching spellings by concept.

    Raises :class:`DataError` naming ``where`` (e.g. the folder) when nobody knows it.
    """
    wanted = concept(name)
    for i, known in enumerate(class_names):
        if concept(known) == wanted:
            return i
    raise DataError(
        f"{where}: unknown class folder {name!r}"
        f"{' for ' + dataset if dataset else ''}; expected one of "
        f"{', '.join(class_names)} (or a known spelling such as disgusted, fearful, "
        f"surprised)")
