"""The files a command runs, found before Ray starts: its code folder, its program, its script.

Pure and light (no Ray): :func:`command_problems` reads the command as a trial would run it and
names what is missing, so that ``validate`` and ``run`` refuse a misspelled script
(``python trian.py ${args}``) or a code folder that does not exist before any trial starts.

What is checked, in the folder the command runs in (``workdir``, whose entries each trial's
working directory links):

- the program (the first argument): a path with a ``/`` (``./train.sh``) names an executable
  file; a bare name (``python``, ``torchrun``) a program on the trial's ``PATH``
  (:func:`trial_path`);
- the script of an interpreter (``python``, ``bash``, ``sh``, ``Rscript``, ``node`` ...): its
  first argument that is not an option must be a file; code given inline (``python -c``,
  ``bash -c``) or a module (``python -m pkg``) is not checked;
- ``env VAR=value PROGRAM ...``: the command after the assignments.

An argument that holds a macro (``${script}``) is not checked.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from raytune_hpo.adapters.command.spec import CommandSpec


@dataclass(frozen=True)
class Interpreter:
    """How an interpreter's arguments lead to its script.

    Attributes:
        inline: Options after which code or a module follows, not a file (``-c``, ``-m``).
        valued: Options that take the next argument as their value (``-W ignore``).
    """

    inline: frozenset[str] = frozenset()
    valued: frozenset[str] = frozenset()


_SHELL = Interpreter(inline=frozenset({"-c"}), valued=frozenset({"-o", "+o", "-O", "+O"}))
INTERPRETERS: dict[str, Interpreter] = {
    "python": Interpreter(inline=frozenset({"-c", "-m"}), valued=frozenset({"-W", "-X"})),
    "sh": _SHELL,
    "bash": _SHELL,
    "zsh": _SHELL,
    "dash": _SHELL,
    "ksh": _SHELL,
    "Rscript": Interpreter(inline=frozenset({"-e"})),
    "node": Interpreter(
        inline=frozenset({"-e", "--eval", "-p", "--print"}), valued=frozenset({"-r", "--require"})
    ),
    "perl": Interpreter(inline=frozenset({"-e", "-E"})),
    "ruby": Interpreter(inline=frozenset({"-e"})),
    "julia": Interpreter(inline=frozenset({"-e", "-E", "--eval", "--print"})),
}
"""Interpreters whose first argument that is not an option is the script they run."""
_VERSIONED = re.compile(r"(?P<name>python|pypy)[\d.]*")
"""``python3``, ``python3.11``, ``pypy3``: Python."""


def trial_path() -> str:
    """The ``PATH`` a command trial runs with: the folder of the trial's Python first, so that
    ``python`` runs in the toolkit's environment, as in an activated environment."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def interpreter_of(program: str) -> Interpreter | None:
    """The :class:`Interpreter` that ``program`` (a name or a path) names, or None."""
    name = Path(program).name
    if _VERSIONED.fullmatch(name):
        return INTERPRETERS["python"]
    return INTERPRETERS.get(name)


def script_argument(argv: list[str]) -> str | None:
    """The script file an interpreter command runs (``python train.py`` -> ``train.py``), or
    None: no interpreter, code given inline or a module, or no script at all.

    Args:
        argv: The command's arguments, macros not yet expanded.
    """
    interpreter = interpreter_of(argv[0])
    if interpreter is None:
        return None
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--":
            return next(rest, None)
        if arg in interpreter.inline:
            return None
        if arg in interpreter.valued:
            next(rest, None)
            continue
        if arg.startswith(("-", "+")) and len(arg) > 1:
            if arg.startswith("--") or arg[:2] in interpreter.valued:
                continue  # a long option, or a short one with its value attached (-Wignore)
            if any(f"-{flag}" in interpreter.inline for flag in arg[1:]):
                return None  # a cluster such as -uc: code follows
            if f"-{arg[-1]}" in interpreter.valued:
                next(rest, None)
            continue
        return arg
    return None


def _without_assignments(argv: list[str]) -> list[str]:
    """``env [-i] VAR=value ... PROGRAM ARGS`` -> ``PROGRAM ARGS``; other commands unchanged."""
    while argv and Path(argv[0]).name == "env":
        argv = argv[1:]
        while argv and (argv[0].startswith("-") or "=" in argv[0]):
            argv = argv[1:]
    return argv


def command_problems(spec: CommandSpec, workdir: Path, path: str) -> list[tuple[str, str]]:
    """What keeps ``spec``'s command from starting, as ``(config key, message)`` pairs.

    Args:
        spec: The command.
        workdir: The folder it runs in (its code folder).
        path: The ``PATH`` it runs with (:func:`trial_path`).

    Returns:
        Empty when nothing is missing; else the ``trainable.workdir`` that is no folder, or the
        program and the script that are not there.
    """
    if not workdir.is_dir():
        what = "is a file, not a folder" if workdir.exists() else "does not exist"
        return [("trainable.workdir", f"{workdir} {what}")]
    argv = _without_assignments(spec.argv_template())
    if not argv:
        return []
    problems = []
    program, script = argv[0], script_argument(argv)
    if (found := _program_problem(program, workdir, path)) is not None:
        problems.append(("trainable.command", found))
    if script is not None and "$" not in script:
        target = workdir / Path(script)
        if not target.is_file():
            what = "is a folder, not a file" if target.is_dir() else "does not exist"
            problems.append(
                (
                    "trainable.command",
                    f"the script {script!r} {what} in {workdir} (the folder the command runs "
                    f"in){_did_you_mean(target)}",
                )
            )
    return problems


def _program_problem(program: str, workdir: Path, path: str) -> str | None:
    if "$" in program:
        return None
    if "/" in program:
        target = workdir / Path(program)
        if not target.is_file():
            return f"the program {program!r} does not exist in {workdir}{_did_you_mean(target)}"
        if not os.access(target, os.X_OK):
            return f"the program {program!r} is not executable: chmod +x {target}"
        return None
    if shutil.which(program, path=path) is not None:
        return None
    local = workdir / program
    hint = f"; the file {program} of {workdir} runs as ./{program}" if local.is_file() else ""
    return f"the program {program!r} is not on PATH{hint}"


def _did_you_mean(target: Path) -> str:
    """``; did you mean 'train.py'?`` for the entry of ``target``'s folder closest to its name."""
    folder = target.parent
    if not folder.is_dir():
        return ""
    names = [entry.name for entry in folder.iterdir() if not entry.name.startswith(".")]
    close = difflib.get_close_matches(target.name, names, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
