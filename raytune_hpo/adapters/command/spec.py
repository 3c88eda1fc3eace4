"""The ``trainable: {command: ...}`` section: a training script run as a trial, as data.

Pure (no Ray): the config validates it,
:mod:`raytune_hpo.adapters.command.command_trainable` runs it.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from raytune_hpo.adapters.command.formats import DEFAULT_FORMAT, METRIC_FORMATS
from raytune_hpo.pydantic_base import StrictModel

MACROS = ("args", "args_no_hyphens", "args_json_file")
"""Macros a command may hold besides ``${NAME}`` of one hyperparameter."""
CHECKPOINT_DIR_ENV = "RAYTUNE_HPO_CHECKPOINT_DIR"
"""Names the folder a command trial writes its state into (and finds it in on a restart)."""

if TYPE_CHECKING:
    FormatName = str
else:
    FormatName = Literal[tuple(METRIC_FORMATS)]
"""A name of :data:`~raytune_hpo.adapters.command.formats.METRIC_FORMATS`."""


class MetricsFormat(StrictModel):
    """Where a command trial's metrics are read, and how: ``format`` names an entry of
    :data:`~raytune_hpo.adapters.command.formats.METRIC_FORMATS`, which also checks the other
    settings.

    Each entry says what makes a report and what joins it (its docs row); numbers written as
    strings (``'0.69'``) count as numbers.

    ``step`` (optional) names a key (a group, a tag) that counts reports, such as ``epoch``: a
    metric line or value is a report only when it carries the step, grown past the last
    report's, so that per-batch lines that also show the metric are not taken for epochs.
    """

    format: FormatName = DEFAULT_FORMAT
    pattern: str | None = None
    step: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _settings_fit_format(self) -> MetricsFormat:
        METRIC_FORMATS[self.format].check_settings(self)
        return self


class CommandSpec(StrictModel):
    """A command run as a trial: hyperparameters in as arguments, metrics out on stdout.

    Attributes:
        command: A string split like a shell would (no shell runs it) or a list of arguments;
            macros ``${args}``, ``${args_no_hyphens}``, ``${args_json_file}``, ``${NAME}``.
        workdir: The code folder, relative to the YAML file's folder (the default): each
            trial runs the command in a working directory of its own where this folder's
            entries are linked
            (:func:`raytune_hpo.adapters.command.command_trainable.link_code_folder`).
        metrics: Where and how metrics are read.
        booleans: How ``${args}`` passes a boolean hyperparameter: ``value`` as
            ``--name=True`` / ``--name=False``; ``flag`` as a bare ``--name`` when True and
            nothing when False (argparse's ``store_true``). ``${args_no_hyphens}`` and
            ``${name}`` always write the value.
        stop_grace_s: Seconds between SIGTERM and SIGKILL when a trial is stopped; also the
            longest wait for the command to end by itself after the trial's last report.
        state_saved: When the command writes its state into ``$RAYTUNE_HPO_CHECKPOINT_DIR``
            relative to the report it belongs to. ``before_report`` (a script's own loop:
            save, then print): the state is taken the moment the report is read.
            ``after_report`` (Hugging Face's ``Trainer`` prints its evaluation, then saves):
            the report is held until the command's next line of output, or its end, and the
            state is taken then.
    """

    command: str | list[str]
    workdir: str | None = None
    metrics: MetricsFormat = MetricsFormat()
    booleans: Literal["value", "flag"] = "value"
    stop_grace_s: float = Field(default=5.0, ge=0)
    state_saved: Literal["before_report", "after_report"] = "before_report"

    @field_validator("command")
    @classmethod
    def _not_empty(cls, command: str | list[str]) -> str | list[str]:
        try:
            argv = shlex.split(command) if isinstance(command, str) else command
        except ValueError as err:
            raise ValueError(f"cannot split {command!r} like a shell would: {err}") from None
        if not argv or not all(isinstance(a, str) and a for a in argv):
            raise ValueError(f"needs a program to run, got {command!r}")
        return command

    def argv_template(self) -> list[str]:
        """The command as a list of arguments, macros not yet expanded."""
        return shlex.split(self.command) if isinstance(self.command, str) else list(self.command)

    @property
    def label(self) -> str:
        """The command as one line, for tables and W&B."""
        return self.command if isinstance(self.command, str) else shlex.join(self.command)
