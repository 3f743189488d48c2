"""Constructor arguments checked where they are given: a layer made from a damaged file or a typo
is refused naming the argument, not found out later as a ZeroDivisionError or a huge allocation."""
import math
import numbers


def positive_int(value, name, upper=1 << 24):
    """``value`` as an int in [1, ``upper``] (a whole float such as Keras's 32.0 is taken)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= upper:
        raise ValueError(f"{name} must be a whole number from 1 to {upper}, got {value!r}")
    return int(value)


def real(value, name, low=-math.inf, high=math.inf):
    """``value`` as a finite float in [``low``, ``high``]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a finite number in [{low}, {high}], got {value!r}")
    return float(value)
