"""The values one line of a command's output holds, in each line format of
:data:`~raytune_hpo.adapters.command.formats.METRIC_FORMATS`.

Pure (the standard library only). Each parser takes the line (its end of line stripped), the
experiment's metric and the ``trainable.metrics`` settings, and returns every value the line
holds, whether or not the metric is among them:

- :func:`key_value_values`: every ``name=number`` or ``name: number`` on the line, names
  starting with a letter or ``_`` (``val/loss``, ``top-1``, ``eval.acc`` count), numbers such as
  ``3``, ``-0.5``, ``1e-3``, ``nan``, ``inf``, followed by a space, ``,;|)]}`` or the end (so
  ``12:30`` is no number); ``acc=93.5%`` reads 93.5, but a progress bar's ``45%|`` is no
  number. ``epoch 3: loss=0.4`` holds only ``loss``: a name must be followed by its ``=`` or
  ``:``. A line that is a JSON object or a Python dict literal (``{'eval_loss': '0.69',
  'epoch': 1.0}``, Hugging Face's ``Trainer``) brings the keys whose values are numbers; other
  values are left out.
- :func:`json_values`: a line that is a JSON object, or a Python dict literal; all its keys.
- :func:`regex_values`: the named groups of the pattern's first match.

Strings that are numbers (``'0.69'``, ``"1e-3"``, ``'93.50%'`` as 93.5) become numbers,
integers stay ``int``, other numbers are ``float``; a dict's bare ``nan`` and ``inf`` count.
"""

from __future__ import annotations

import ast
import json
import re
from typing import TYPE_CHECKING, Any

from raytune_hpo.adapters.command.report_rules import is_number

if TYPE_CHECKING:
    from raytune_hpo.adapters.command.spec import MetricsFormat

NUMBER = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:nan|inf(?:inity)?))"
"""A number as the line formats read it."""
NAME = r"[A-Za-z_][\w.\-/]*"
"""A name ``key_value`` reads: a letter or ``_``, then letters, digits or ``_ . - /``."""
_PAIR = re.compile(
    rf"(?<![\w.\-/])(?P<name>{NAME})\s*[=:]\s*(?P<value>{NUMBER})(?:%(?!\|))?"
    r"(?=$|[\s,;|)\]}])"
)
_PERCENT = re.compile(rf"(?P<value>{NUMBER})\s*%")
_INTEGER = re.compile(r"[-+]?\d+")
_NON_FINITE = ("nan", "inf", "NaN", "Infinity")


def key_value_values(text: str, metric: str, fmt: MetricsFormat) -> dict[str, Any]:
    """Every ``name=number`` / ``name: number`` of ``text``, or the numbers of a dict line."""
    mapping = _mapping(text)
    if mapping is None:
        return {m["name"]: _number(m["value"]) for m in _PAIR.finditer(text)}
    return {key: value for key, value in mapping.items() if is_number(value)}


def json_values(text: str, metric: str, fmt: MetricsFormat) -> dict[str, Any]:
    """Every key of ``text`` when it is a JSON object or a Python dict literal; else none."""
    return _mapping(text) or {}


def regex_values(text: str, metric: str, fmt: MetricsFormat) -> dict[str, Any]:
    """The named groups of the first match of ``fmt.pattern`` in ``text``.

    Raises:
        ValueError: The pattern has no group named ``metric``.
    """
    pattern = str(fmt.pattern)
    compiled = re.compile(pattern)
    if metric not in compiled.groupindex:
        groups = ", ".join(compiled.groupindex)
        raise ValueError(
            f"metrics pattern {pattern!r} has no group named {metric!r} (the experiment's "
            f"metric); its groups: {groups}"
        )
    match = compiled.search(text)
    if match is None:
        return {}
    return {
        name: _unquoted(value) for name, value in match.groupdict().items() if value is not None
    }


def _number(text: str) -> int | float:
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _unquoted(value: Any) -> Any:
    """``value``, or the number it spells when it is a string such as ``'0.69'`` or
    ``'93.50%'`` (93.5)."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(NUMBER, text):
            return _number(text)
        if percent := _PERCENT.fullmatch(text):
            return _number(percent["value"])
    return value


def _mapping(text: str) -> dict[str, Any] | None:
    """The object a ``{...}`` line holds as JSON or as a Python dict literal; None if none."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        parsed = _python_literal(stripped)
    if not isinstance(parsed, dict):
        return None
    return {key: _unquoted(value) for key, value in parsed.items() if isinstance(key, str)}


def _python_literal(text: str) -> Any:
    """The Python literal ``text`` spells (the names ``nan`` and ``inf`` as floats), or None."""
    try:
        return ast.literal_eval(_NonFinite().visit(ast.parse(text, mode="eval")))
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None


class _NonFinite(ast.NodeTransformer):
    """Turns the names ``nan`` and ``inf``, as Python prints such floats, into constants."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in _NON_FINITE:
            return node
        return ast.copy_location(ast.Constant(float(node.id)), node)
