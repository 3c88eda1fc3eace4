"""The command a trial ran, kept in its folder as a shell script that runs it again by hand.

Pure and light (no Ray): :func:`rerun_script` writes the text of ``command.sh``
(:data:`~raytune_hpo.layout.COMMAND_FILE`), which each start of a command trial rewrites: the
exact arguments, the working directory and the variables the toolkit set. What the command
inherited from the worker's environment besides is not written (it may hold credentials).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from raytune_hpo.adapters.command.spec import CHECKPOINT_DIR_ENV
from raytune_hpo.layout import COMMAND_FILE

SHOWN_FROM_RAY = ("CUDA_VISIBLE_DEVICES",)
"""Variables Ray sets for a trial, named in a comment: another run may get other devices."""
_JSON_END = "RAYTUNE_HPO_JSON"


def rerun_script(
    argv: list[str],
    code_dir: Path,
    variables: Mapping[str, str],
    *,
    trial: str,
    path_prefix: str,
    json_file: Path,
    inherited: Mapping[str, str],
) -> str:
    """The text of a POSIX shell script that runs ``argv`` as the trial did.

    It runs in the code folder itself (the trial ran in ``work/`` of its folder, where the code
    folder's entries were linked), with ``path_prefix`` before ``PATH`` and ``variables``
    exported, its state folder (``$RAYTUNE_HPO_CHECKPOINT_DIR``) a new empty one unless the
    caller names one; the hyperparameters' JSON file (``${args_json_file}``) is written again
    where the command expects it.

    Args:
        argv: The command's arguments, macros expanded.
        code_dir: The code folder (``workdir``).
        variables: The variables the toolkit set besides ``PATH`` and the state folder.
        trial: The trial, for the comment at the top.
        path_prefix: What the toolkit put before ``PATH``.
        json_file: The hyperparameters' JSON file; written by the script only when ``argv``
            names it.
        inherited: The rest of the command's environment: only :data:`SHOWN_FROM_RAY` is read.
    """
    quote = shlex.quote
    lines = [
        "#!/bin/sh",
        f"# The command of trial {trial}, as it started last. Run it again by hand:",
        f"#   sh {COMMAND_FILE}",
        "# The trial ran it in work/ of its folder, where the entries of its code folder were",
        "# linked; this runs it in the code folder itself. Its state folder",
        f"# (${CHECKPOINT_DIR_ENV}) is a new empty one unless you set the variable to a folder",
        "# (a copy of one of the trial's checkpoints, to restart from it).",
    ]
    lines += [
        f"# {name} was {quote(inherited[name])} (set by Ray for the trial)"
        for name in SHOWN_FROM_RAY
        if name in inherited
    ]
    lines += [
        f"cd {quote(str(code_dir))} || exit 1",
        f'export PATH={quote(path_prefix)}:"$PATH"',
        *(f"export {name}={quote(value)}" for name, value in sorted(variables.items())),
        f'{CHECKPOINT_DIR_ENV}="${{{CHECKPOINT_DIR_ENV}:-$(mktemp -d)}}"',
        f"export {CHECKPOINT_DIR_ENV}",
    ]
    if any(str(json_file) in arg for arg in argv) and json_file.is_file():
        lines += [
            f"mkdir -p {quote(str(json_file.parent))}",
            f"cat > {quote(str(json_file))} <<'{_JSON_END}'",
            json_file.read_text().rstrip("\n"),
            _JSON_END,
        ]
    lines.append(f"exec {shlex.join(argv)}")
    return "\n".join(lines) + "\n"


def write_rerun_script(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` as the executable file ``folder/name``; returns its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path
