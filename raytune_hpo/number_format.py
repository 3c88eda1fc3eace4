"""Numbers as a person reads them, the same in the console, tables, reports and histories.

Pure, imports nothing of the package: every layer may use it.
"""

from __future__ import annotations

import numbers
from typing import Any


def format_number(value: Any) -> str:
    """A hyperparameter or metric as a person reads it: reals to 4 significant digits.

    Integers (``bool`` and numpy's too) stay whole; anything not a number is ``str(value)``.
    """
    if isinstance(value, numbers.Integral):  # bool too
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)
