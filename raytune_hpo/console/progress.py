"""Where an experiment stands while it runs: the counts, the status line, the progress bar.

:class:`Progress` is pure (counts in, text out); :func:`progress_bar` and :func:`update_bar`
draw it as a tqdm bar on a terminal, :class:`StatusSchedule` says when a plain status line is
due in a pipe or log file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from tqdm import tqdm

from raytune_hpo.console.formatting import format_duration
from raytune_hpo.number_format import format_number


@dataclass(frozen=True)
class Progress:
    """Where an experiment stands.

    Attributes:
        done: Trials that ended (finished, stopped or errored).
        total: Trials the experiment runs; None when unknown.
        running: Trials running now.
        errored: Trials that ended in an error.
        best: ``(trial id, value)`` of the best value of the metric so far.
        elapsed_s: Seconds since the experiment started.
        budget_s: The experiment's time budget, if any.
        cut_short: At the end: trials Ray stopped while they ran (the time budget ended).
        not_started: At the end: trials the experiment ended before they ran.
        interrupted: At the end: trials that had started and not finished when Ctrl-C
            stopped the experiment (they go on from their checkpoints on ``resume``).
        paused: At the end: trials that their scheduler had paused when the time budget
            ended (PBT, HyperBand).
    """

    done: int
    total: int | None
    running: int
    errored: int
    best: tuple[str, float] | None
    elapsed_s: float
    budget_s: float | None = None
    cut_short: int = 0
    not_started: int = 0
    interrupted: int = 0
    paused: int = 0

    def remaining_s(self) -> float | None:
        """Seconds left: the rest of the budget, else elapsed time per finished trial."""
        if self.budget_s is not None:
            return max(0.0, self.budget_s - self.elapsed_s)
        if self.total is None or self.done == 0:
            return None
        return self.elapsed_s * (self.total - self.done) / self.done

    def best_text(self, metric: str) -> str:
        """``best METRIC VALUE (trial ID)``, or that nothing was reported yet."""
        if self.best is None:
            return f"no {metric} yet"
        return f"best {metric} {format_number(self.best[1])} (trial {self.best[0]})"

    def postfix(self, metric: str) -> str:
        """What the progress bar shows after the count and times (the best first)."""
        parts = [self.best_text(metric), f"{self.running} running"]
        if self.errored:
            parts.append(f"{self.errored} errored")
        parts.extend(self._cut_off())
        if self.budget_s is not None:
            parts.insert(0, f"{self.done}/{self.total or '?'} trials done")
        return ", ".join(parts)

    def status_line(self, metric: str, *, final: bool = False) -> str:
        """The plain status line printed in a pipe or log file (``final``: without estimate)."""
        of = f"/{self.total}" if self.total is not None else ""
        text = f"[{format_duration(self.elapsed_s)}] {self.done}{of} trials done"
        if self.errored:
            text += f" ({self.errored} errored)"
        text += "".join(f", {part}" for part in self._cut_off())
        if not final:
            text += f", {self.running} running"
        text += f", {self.best_text(metric)}"
        left = self.remaining_s()
        if not final and left is not None:
            text += f", about {format_duration(left)} left"
        return text

    def _cut_off(self) -> list[str]:
        """The trials the end of the experiment stopped or never ran, as phrases."""
        by = " by the time budget" if self.budget_s is not None else ""
        parts = [f"{self.cut_short} stopped{by}"] if self.cut_short else []
        if self.paused:
            parts.append(f"{self.paused} paused when the time budget ended")
        if self.interrupted:
            parts.append(f"{self.interrupted} interrupted (state saved)")
        return parts + ([f"{self.not_started} never started"] if self.not_started else [])


class StatusSchedule:
    """When a status line is due: every ``every_s`` seconds after ``start``.

    Args:
        every_s: Seconds between two status lines.
        start: When the experiment started (``time.monotonic()``).
    """

    def __init__(self, every_s: float, start: float) -> None:
        self.every_s = every_s
        self.last = start

    def due(self, now: float) -> bool:
        """Whether a line is due at ``now``; if so, the next one is due ``every_s`` later."""
        if now - self.last < self.every_s:
            return False
        self.last = now
        return True


def progress_bar(stream: TextIO, total: int | None, budget_s: float | None) -> tqdm:
    """A bar on ``stream``: seconds of the time budget when there is one, else trials done.

    Args:
        stream: The terminal.
        total: Trials the experiment runs; None when unknown.
        budget_s: The experiment's time budget, if any.
    """
    if budget_s is not None:
        length: float | None = budget_s
        counts = "{n:.0f}/{total:.0f} s of the time budget"
    else:
        length = total
        counts = "{n_fmt}/{total_fmt} trials"
    return tqdm(
        total=length,
        file=stream,
        bar_format=counts + " |{bar}| {elapsed}<{remaining}{postfix}",
        dynamic_ncols=True,
        leave=True,
    )


def update_bar(bar: tqdm, progress: Progress, metric: str) -> None:
    """Redraw ``bar`` (from :func:`progress_bar`) for ``progress``."""
    bar.n = int(min(progress.elapsed_s, bar.total)) if progress.budget_s else progress.done
    bar.set_postfix_str(progress.postfix(metric), refresh=False)
    bar.refresh()
