"""The values a file gives a model's weights, checked before any weight changes.

A weight is a real number array in its own dtype; a file's array may be complex (the imaginary
part would be dropped), hold NaN or inf, or hold numbers its weight's dtype cannot (1e39 in
float32 is inf). A model that loads such values predicts NaN or garbage without a word, so every
reader refuses them, naming the weights.
"""
import numpy

from .npz import NUMERIC_KINDS


def weight_values(pairs):
    """``[(weight, array)]`` -> (the arrays in their weights' dtypes, a list of what is wrong with them)."""
    return checked_values((weight.name, weight.dtype, array) for weight, array in pairs)


def checked_values(items):
    """``[(name, dtype, array)]`` -> (the arrays in those dtypes, a list of what is wrong with them):
    optimizer slots are checked as weights are."""
    values, problems = [], []
    for name, dtype, array in items:
        array = numpy.asarray(array)
        if array.dtype.kind not in NUMERIC_KINDS:
            problems.append(f"{name} holds {array.dtype}, not real numbers")
            continue
        with numpy.errstate(over="ignore", invalid="ignore"):
            value = array.astype(dtype)
        if not numpy.isfinite(value).all():
            problems.append(f"{name} holds values that are not finite in {dtype} (NaN, inf or too large)")
        values.append(value)
    return values, problems
