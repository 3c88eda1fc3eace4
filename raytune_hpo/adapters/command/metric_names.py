"""Names of metrics: TensorBoard tags named by their folder, and names close to a metric's.

Pure and light (the standard library only), so that the experiment's checks share it with the
command trials that read metrics:

- :func:`tag_name`: a TensorBoard tag named by its folder below the trial's working directory
  and the tag, joined with ``/`` (``logs/validation/epoch_loss``), run-version folders left out
  (:func:`is_run_folder`);
- :func:`names_ending_with`: the names a metric names, by any trailing part of them in whole
  folders (``validation/epoch_loss``, ``epoch_loss``);
- :func:`close_names`: the names a misspelled metric may have meant (``val_los`` for
  ``val_loss``), for "did you mean".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

SEPARATOR = "/"
"""Joins a tag's folders and the tag into its name."""
RUN_ROOTS = frozenset({"lightning_logs", "outputs", "multirun", "runs"})
"""Folders in which a framework makes one run-version folder per run (Lightning's loggers,
Hydra, ``SummaryWriter()``): left out of a name with the run-version folder that follows them."""
CLOSE_CUTOFF = 0.85
"""How alike (:class:`difflib.SequenceMatcher` ratio) a name must be to a metric to be offered
as the one meant: ``val_los`` / ``val_loss`` is 0.93, ``train_loss`` / ``val_loss`` 0.67."""

_RUN_FOLDER = re.compile(
    r"version_\d+"  # Lightning's loggers: lightning_logs/version_3
    r"|\d{2}-\d{2}-\d{2}"  # Hydra's time folder: outputs/2026-12-07/14-03-59
    r"|[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_.+"  # SummaryWriter()'s runs/Dec07_14-03-59_host
)
_STAMP = re.compile(r"[\d_.:T-]+")
_STAMP_DIGITS = 8
"""A folder of digits and ``_.:T-`` with this many digits is a date or a time stamp
(``2026-12-07``, ``20261207-140359``)."""


def is_run_folder(name: str) -> bool:
    """Whether a folder's name marks one run of a script rather than what it logs.

    Lightning's ``version_N``, a date or a time stamp (Hydra's ``2026-12-07`` and
    ``14-03-59``, Keras tutorials' ``20261207-140359``) and ``SummaryWriter()``'s default
    ``Dec07_14-03-59_HOST``: a new one per run of the same script.
    """
    if _RUN_FOLDER.fullmatch(name):
        return True
    return bool(_STAMP.fullmatch(name)) and sum(map(str.isdigit, name)) >= _STAMP_DIGITS


def kept_folders(folders: Sequence[str]) -> list[str]:
    """``folders`` (a path below the working directory, split) less its run-version folders.

    Left out: every run folder (:func:`is_run_folder`); a :data:`RUN_ROOTS` folder directly
    followed by one (``lightning_logs/version_0``, ``outputs/2026-12-07/14-03-59``); a number
    directly after one (Hydra's job number, ``multirun/DATE/TIME/3``).
    """
    run = [is_run_folder(name) for name in folders]
    kept = []
    for index, name in enumerate(folders):
        after_run = index > 0 and run[index - 1]
        before_run = index + 1 < len(folders) and run[index + 1]
        if run[index] or (name in RUN_ROOTS and before_run) or (name.isdigit() and after_run):
            continue
        kept.append(name)
    return kept


def tag_name(folders: Sequence[str], tag: str) -> str:
    """The name of ``tag`` logged in the folder ``folders`` (split) below the working directory.

    ``tag_name(["logs", "validation"], "epoch_loss") == "logs/validation/epoch_loss"``;
    ``tag_name(["lightning_logs", "version_0"], "val_loss") == "val_loss"``.
    """
    return SEPARATOR.join([*kept_folders(folders), tag])


def _parts(name: str) -> list[str]:
    return name.split(SEPARATOR)


def names_ending_with(metric: str, names: Iterable[str]) -> list[str]:
    """The names of which ``metric`` is a trailing part in whole folders, sorted.

    ``validation/epoch_loss`` and ``epoch_loss`` both end ``logs/validation/epoch_loss``;
    ``loss`` does not.
    """
    wanted = _parts(metric)
    return sorted({name for name in names if _parts(name)[-len(wanted) :] == wanted})


def _trailing_parts(name: str) -> list[str]:
    """``a/b/c`` -> ``c``, ``b/c``, ``a/b/c``."""
    parts = _parts(name)
    return [SEPARATOR.join(parts[-count:]) for count in range(1, len(parts) + 1)]


def _normal(name: str) -> str:
    """``name`` without case and separators: ``Val/Loss`` and ``val_loss`` are alike."""
    return re.sub(r"[\W_]+", "", name).casefold()


def _keras_names(metric: str) -> list[str]:
    """What ``keras.callbacks.TensorBoard`` names the metric Keras prints as ``metric``:
    ``val_loss`` -> ``validation/epoch_loss``, ``loss`` -> ``train/epoch_loss``."""
    if SEPARATOR in metric:
        return []
    if metric.startswith("val_"):
        return [f"validation/epoch_{metric[4:]}"]
    return [f"train/epoch_{metric}"]


def close_names(metric: str, names: Iterable[str]) -> list[str]:
    """The names that ``metric``, naming none of ``names``, may have meant; best first.

    Compared with ``metric`` is every trailing part of each name in whole folders
    (``epoch_loss``, ``validation/epoch_loss``, ...), and the names are offered whole. Close
    are parts at least :data:`CLOSE_CUTOFF` alike, or alike but for case and separators
    (``val/loss`` for ``val_loss``), and the names Keras's TensorBoard callback gives the
    metrics it prints (``validation/epoch_loss`` for ``val_loss``).

    Returns:
        At most three names; none where ``metric`` names one of ``names``.
    """
    every = sorted(set(names))
    if names_ending_with(metric, every):
        return []
    parts = sorted({part for name in every for part in _trailing_parts(name)})
    alike = [part for part in parts if _normal(part) == _normal(metric) != ""]
    alike += difflib.get_close_matches(metric, parts, n=3, cutoff=CLOSE_CUTOFF)
    meant = [name for keras in _keras_names(metric) for name in names_ending_with(keras, every)]
    meant += [name for part in alike for name in names_ending_with(part, every)]
    return list(dict.fromkeys(meant))[:3]
