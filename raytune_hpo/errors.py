"""The toolkit's errors and exit codes, each defined once; imports nothing.

Every error the person running the toolkit should read as one line derives from
:class:`RaytuneHpoError`, whose ``exit_code`` the command line returns:

- :class:`UserError` (exit 2): something they can fix in their input (a config key, a file, a
  command, their code, the installed Ray), named in one line with what is allowed;
- trials that failed (exit 1, :class:`raytune_hpo.experiment.trial_checks.TrialsFailed`);
- :class:`ExperimentInterrupted` (exit 130): Ctrl-C after the experiment's state was saved.

Each error keeps the built-in class it always had (``ValueError``, ``RuntimeError``,
``KeyboardInterrupt``), so code that caught those still does.
"""

from __future__ import annotations

import shlex

EXIT_TRIALS_FAILED = 1
"""The experiment ran, but its trials failed (the first ones before reporting, or all)."""
EXIT_BAD_INPUT = 2
"""A config, file, command or piece of user code the toolkit cannot use, as argparse exits."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT), as shells report it."""


class RaytuneHpoError(Exception):
    """An error of the toolkit that the command line prints as one line and exits with."""

    exit_code = EXIT_BAD_INPUT


class UserError(RaytuneHpoError):
    """Input the toolkit cannot use; ``str()`` names the file or key and what is allowed."""


class InvalidKey(UserError, ValueError):
    """A config value that cannot be used, raised where the value is checked; ``key`` is its
    dotted path below the section being checked, ``message`` what is allowed (the config
    wraps it into a ``ConfigError`` naming the file)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class ExperimentInterrupted(KeyboardInterrupt):
    """An experiment stopped by Ctrl-C after Ray Tune saved its state in ``path``.

    Attributes:
        path: The experiment folder (a path, or a URI).
    """

    exit_code = EXIT_INTERRUPTED

    def __init__(self, path: object) -> None:
        super().__init__(str(path))
        self.path = path

    @property
    def resume_command(self) -> str:
        """The command that continues the experiment."""
        return f"raytune-hpo resume {shlex.quote(str(self.path))}"
