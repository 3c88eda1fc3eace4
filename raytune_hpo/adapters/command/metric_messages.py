"""The fixes that messages about reading a command's metrics suggest: a regex group for a
name, and the ``trainable.metrics`` settings that read ``<name>: <number>`` with a regex.

Pure (the standard library only); used by the entries of
:data:`~raytune_hpo.adapters.command.formats.METRIC_FORMATS`.
"""

from __future__ import annotations

import re

VALUE_GROUP = r"[-+.\deE]+"
"""A regex for a number, as suggested in messages."""


def group_name(name: str) -> str:
    """``name`` made a regex group name: ``Average loss`` -> ``average_loss``."""
    group = re.sub(r"\W+", "_", name).strip("_").lower() or "value"
    return f"_{group}" if group[0].isdigit() else group


def group_fix(name: str, setting: str = "metric") -> str:
    """How to name a group for ``name``; a rename when ``name`` cannot be a group name."""
    if name.isidentifier():
        return f"add a group named after it, e.g. (?P<{name}>{VALUE_GROUP})"
    group = group_name(name)
    return (
        f"a group name is an identifier, so rename the {setting} too, e.g. {setting}: {group} "
        f"with (?P<{group}>{VALUE_GROUP})"
    )


def regex_fix(name: str, key: str = "metric") -> str:
    """The settings that read ``<name>: <number>`` with a regex, for messages."""
    group = group_name(name)
    label = re.escape(name).replace("\\ ", " ")
    pattern = f"pattern: '{label}: (?P<{group}>{VALUE_GROUP})'"
    if key == "metric":
        rename = "" if group == name else f"metric: {group} and "
        return f"{rename}trainable.metrics: {{format: regex, {pattern}}}"
    return (
        f"trainable.metrics: {{format: regex, step: {group}, {pattern}}} with a group for the "
        "metric too"
    )
