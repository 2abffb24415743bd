"""Argument checks every module shares, importable without numpy or TensorFlow."""

from __future__ import annotations

import numbers


def positive_int(value, name: str, error=ValueError) -> int:
    """``value`` as an int, or ``error`` naming ``name`` unless it is an integer >= 1
    (a Python or numpy integer; not a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise error(f"{name} must be a positive integer, got {value!r}")
    return int(value)
