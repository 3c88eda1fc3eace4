"""Every PBT perturbation, recorded into the experiment folder while the experiment runs.

Ray's PBT appends one line per exploit to ``pbt_global.txt`` in the driver's copy of the
experiment folder: ``[trial tag, donor tag, trial iteration, donor iteration, donor config, new
config]``, with tags rather than trial ids and no time. :class:`PbtHistoryCallback` reads each new
line as it is written (Ray writes it while handling the exploited trial's result, just before the
callbacks see that result), resolves the tags to trial ids, adds the wall-clock time and the
trial's values before the exploit, and appends one JSON line to ``pbt_history.jsonl`` beside it;
Ray syncs both to the experiment folder wherever its storage is. :func:`read_history` turns that
file into a tidy frame, one row per perturbed hyperparameter.

That driver's copy lives in Ray's session folder, so an experiment resumed in a new driver
session starts with an empty one, whose files Ray syncs over the experiment folder's. The history
therefore continues from the experiment folder's file, and Ray's own log is read on from the saved
position only when it still holds the lines read before (Ray 2.60 starts it anew). A restored
run logs the trials' current tags, ``TAG@perturbed[...]``; both resolve through the first tag.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from ray.tune import Callback

from raytune_hpo import storage
from raytune_hpo.layout import PBT_HISTORY_FILE, PBT_LOG_FILE
from raytune_hpo.number_format import format_number
from raytune_hpo.ray_compat import pbt_log
from raytune_hpo.registry import Perturbation
from raytune_hpo.storage import ray_storage

COLUMNS = [
    "time",
    "trial_id",
    "donor_id",
    "training_iteration",
    "donor_iteration",
    "param",
    "old",
    "donor_value",
    "new",
]


class PbtHistoryCallback(Callback):
    """Append a record to ``pbt_history.jsonl`` for every exploit PBT performs.

    A record holds ``time`` (seconds since the epoch), ``trial_id``, ``donor_id``,
    ``training_iteration`` (of the exploited trial's report that triggered it),
    ``donor_iteration`` (the donor's last reported iteration, as Ray logged it) and, for the
    mutated keys, ``old`` (the trial's values before), ``donor`` (the donor's values) and
    ``new`` (the values the trial continues with).

    Args:
        keys: The mutated hyperparameters.
        on_record: Called with each record once it is written (the console prints it).
    """

    def __init__(
        self, keys: Sequence[str], on_record: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.keys = list(keys)
        self.on_record = on_record
        self._offset = 0
        self._last_line = ""  # read last from Ray's log: checks a restored offset
        self._check_offset = False
        self._started = False

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict, **info: Any
    ) -> None:
        """Record the exploits Ray logged while handling this result."""
        folder = Path(trial.local_experiment_path)
        if not self._started:
            _continue_history(folder, trial.storage)
            self._started = True
        if not storage.exists(folder, PBT_LOG_FILE):
            return
        if self._check_offset:
            self._offset = self._restored_offset(folder)
            self._check_offset = False
        chunk = storage.read_bytes(folder, PBT_LOG_FILE, start=self._offset)
        lines = chunk[: chunk.rfind(b"\n") + 1].decode().splitlines(keepends=True)
        if not lines:
            return
        self._offset += sum(len(line.encode()) for line in lines)
        self._last_line = lines[-1]
        by_tag = {pbt_log.original_tag(t.experiment_tag): t for t in trials}
        records = [
            self._record(pbt_log.parse_pbt_log_line(line), by_tag, trial, result)
            for line in lines
            if line.strip()
        ]
        if records:
            text = "".join(json.dumps(record, default=str) + "\n" for record in records)
            storage.append_text(folder, PBT_HISTORY_FILE, text)
            if self.on_record is not None:
                for record in records:
                    self.on_record(record)

    def _record(
        self,
        line: pbt_log.PbtLogLine,
        by_tag: Mapping[str, Any],
        current: Any,
        result: dict,
    ) -> dict[str, Any]:
        target_tag, donor_tag, target_iteration, donor_iteration, donor, new = line
        target = by_tag.get(pbt_log.original_tag(target_tag))
        donor_trial = by_tag.get(pbt_log.original_tag(donor_tag))
        if target is current:
            old, target_iteration = result.get("config", {}), result.get("training_iteration")
        else:
            old = target.last_result.get("config", {}) if target is not None else {}
        return {
            "time": time.time(),
            "trial_id": target.trial_id if target is not None else target_tag,
            "donor_id": donor_trial.trial_id if donor_trial is not None else donor_tag,
            "training_iteration": target_iteration,
            "donor_iteration": donor_iteration,
            "old": {k: old.get(k) for k in self.keys},
            "donor": {k: donor.get(k) for k in self.keys},
            "new": {k: new.get(k) for k in self.keys},
        }

    def _restored_offset(self, folder: Path) -> int:
        """The saved offset if Ray's log (in ``folder``) still ends it with the line read
        last, else 0."""
        last = self._last_line.encode()
        start = self._offset - len(last)
        if not last or start < 0:
            return 0
        read = storage.read_bytes(folder, PBT_LOG_FILE, start=start)
        return self._offset if read[: len(last)] == last else 0

    def get_state(self) -> dict[str, Any]:
        """How far ``pbt_global.txt`` was read (saved with the experiment by Ray)."""
        return {"offset": self._offset, "last_line": self._last_line}

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue where the restored experiment stopped, once Ray's log is checked."""
        self._offset = int(state.get("offset", 0))
        self._last_line = str(state.get("last_line", ""))
        self._check_offset = True


def _continue_history(local: Path, context: Any) -> None:
    """Start the driver's history file: a copy of the experiment folder's, else empty.

    A file already there is this session's own and is kept.

    Args:
        local: The driver's copy of the experiment folder.
        context: The trials' Ray ``StorageContext`` (the experiment folder's file system).
    """
    if storage.exists(local, PBT_HISTORY_FILE):
        return
    remote = f"{context.experiment_fs_path}/{PBT_HISTORY_FILE}"
    data = ray_storage.read_bytes(context.storage_filesystem, remote)
    storage.write_bytes(local, PBT_HISTORY_FILE, data or b"")


def history_callbacks(
    perturbation: Perturbation | None, on_record: Callable[[dict[str, Any]], None] | None = None
) -> list[Callback]:
    """The history callback of a scheduler that perturbs trials (PBT, PB2); none otherwise.

    Args:
        perturbation: The scheduler's perturbation schedule (its registry trait), or None.
        on_record: Called with each perturbation record once it is written.
    """
    if perturbation is None:
        return []
    return [PbtHistoryCallback(list(perturbation.keys), on_record)]


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The raw records of ``path/pbt_history.jsonl``, a local folder or a URI (empty when
    no perturbation happened)."""
    location = path if isinstance(path, storage.Uri) else storage.as_location(path)
    if not storage.exists(location, PBT_HISTORY_FILE):
        return []
    return parse_records(storage.read_text(location, PBT_HISTORY_FILE))


def parse_records(text: str) -> list[dict[str, Any]]:
    """The records of the text of a ``pbt_history.jsonl``."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_history(path: str | Path) -> pd.DataFrame:
    """One row per perturbed hyperparameter per perturbation, in order; columns ``COLUMNS``."""
    return history_frame(read_records(path))


def history_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per perturbed hyperparameter of each record, in order; columns ``COLUMNS``."""
    rows = [
        {
            **{k: record[k] for k in COLUMNS[:5]},
            "param": param,
            "old": record["old"].get(param),
            "donor_value": record["donor"].get(param),
            "new": value,
        }
        for record in records
        for param, value in record["new"].items()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """One row per perturbation for printing: time, trial, donor, iterations, ``old -> new``."""
    if history.empty:
        return pd.DataFrame()
    keys = ["time", "trial_id", "donor_id", "training_iteration", "donor_iteration"]
    rows = []
    for values, group in history.groupby(keys, sort=False):
        row = dict(zip(keys, values, strict=True))
        row["time"] = time.strftime("%H:%M:%S", time.localtime(row["time"]))
        row.update(
            {
                p: f"{format_number(o)} -> {format_number(n)}"
                for p, o, n in group[["param", "old", "new"]].values
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)
