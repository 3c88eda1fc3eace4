"""Config errors: :class:`ConfigError`, and pydantic's errors turned into one line each.

A pydantic error becomes the dotted key of the YAML file (``scheduler.grace_period``,
``points_to_evaluate[0].lr``) and a message in the words of a YAML file: what the key takes
and what it got, or for an unknown key the allowed ones and the closest match.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.errors import InvalidKey, UserError
from raytune_hpo.search.schedulers import SCHEDULERS
from raytune_hpo.search.searchers import SEARCHERS


class ConfigError(UserError, ValueError):
    """A bad config value; ``str()`` is one line: ``FILE: KEY: what is wrong``."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key = key
        self.message = message
        self.source = source
        prefix = f"{source}: " if source else ""
        line = f"{prefix}{key}: {message}"
        super().__init__(line.translate(_ONE_LINE))


_ONE_LINE = {
    ord(c): c.encode("unicode_escape").decode() for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
}
"""Line breaks (as ``str.splitlines`` sees them) are escaped so that an error stays one line."""


_TAGGED = {"searcher", "scheduler"}
"""Sections whose model is chosen from a registry by their ``name``."""


def locate(
    error: Mapping[str, Any], raw: Mapping[str, Any], root: type[BaseModel]
) -> tuple[str, str]:
    """The dotted key and one-line message of a pydantic error.

    Args:
        error: One entry of ``ValidationError.errors()``.
        raw: The mapping that was validated.
        root: The model that validated ``raw``.
    """
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, InvalidKey):
        return ctx_error.key, ctx_error.message
    loc = list(error["loc"])
    if len(loc) > 1 and loc[0] in _TAGGED and isinstance(raw.get(loc[0]), Mapping):
        if loc[1] == raw[loc[0]].get("name"):
            del loc[1]
    if len(loc) > 1 and loc[0] == "trainable":
        del loc[1]  # the tag of the trainable's union: "name" or "command"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("name")
    model = _model_at(loc[:-1], raw, root) if error["type"] == "extra_forbidden" else None
    return dotted(loc) or "(top level)", describe(error, model)


def dotted(loc: Iterable[Any]) -> str:
    """A pydantic error location as a YAML key: ``a.b[0].c``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """The message of a pydantic error; ``model`` lists the allowed keys of an unknown one."""
    kind = error["type"]
    if kind == "extra_forbidden":
        bad = str(error["loc"][-1])
        allowed = sorted(model.model_fields) if model else []
        close = [a for a in allowed if a.startswith(bad)] or difflib.get_close_matches(
            bad, allowed, n=1
        )
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}allowed: {', '.join(allowed)}"
    if kind == "union_tag_invalid":
        return f"unknown name {error['ctx']['tag']!r}; known: {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "needs a 'name'"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind in _EXPECTED_TYPES:
        value = error.get("input")
        return f"expected {_EXPECTED_TYPES[kind]}, got {value!r} ({_yaml_type(value)})"
    if kind != "value_error" and "input" in error and not isinstance(error["input"], Mapping):
        return f"{message}, got {error['input']!r}"
    return message


_MAPPING = "a mapping of keys to values"
_EXPECTED_TYPES = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
}
"""Pydantic's type-error kinds -> what the key takes, in the words of a YAML file."""


def _yaml_type(value: Any) -> str:
    """The YAML name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names.update({list: "list", dict: "mapping"})
    return names.get(type(value), type(value).__name__)


def _model_at(
    loc: list[Any], raw: Mapping[str, Any], root: type[BaseModel]
) -> type[BaseModel] | None:
    """The model class that validates the section at ``loc`` (for listing allowed keys)."""
    model: type[BaseModel] | None = root
    node: Any = raw
    values: type[BaseModel] | None = None  # the model of each value of a mapping section
    for part in loc:
        if values is not None:
            model, values = values, None
            continue
        if model is None or isinstance(part, int):
            return None
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
        if part in _TAGGED:
            model = _tagged_model(part, node)
        elif part == "trainable":
            model = CommandSpec
        elif _is_model(annotation):
            model = annotation
        elif typing.get_origin(annotation) is dict and _is_model(
            value := typing.get_args(annotation)[1]
        ):
            values = value  # a mapping of sections: constraints: {NAME: {max: ...}}
        else:
            return None
    return model


def _is_model(annotation: Any) -> typing.TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tagged_model(section: str, node: Mapping[str, Any]) -> type[BaseModel] | None:
    registry = SEARCHERS if section == "searcher" else SCHEDULERS
    name = node.get("name")
    return registry[name].options if isinstance(name, str) and name in registry else None
