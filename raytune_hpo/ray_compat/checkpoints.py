"""Private Ray used on a trial's checkpoint manager: the checkpoints kept, registered once each, an
exploit's copy registered.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


def kept_checkpoint_result(trial: Trial, checkpoint: Any) -> Any | None:
    """The ``_TrainingResult`` (checkpoint and the report it came with) of ``checkpoint`` among
    ``trial``'s kept checkpoints, if it is still on storage; else the trial's latest checkpoint's
    (which its checkpoint manager never deletes); None when the trial has none.

    Relies on ``trial.run_metadata.checkpoint_manager``: ``_checkpoint_results`` (the kept
    results) and ``latest_checkpoint_result``.
    """
    from pyarrow.fs import FileType

    manager: Any = trial.run_metadata.checkpoint_manager
    path = getattr(checkpoint, "path", None)  # None, or a save not yet resolved
    candidates: list[Any] = [r for r in manager._checkpoint_results if r.checkpoint.path == path]
    candidates.append(manager.latest_checkpoint_result)
    for result in candidates:
        if result is None:
            continue
        stored = result.checkpoint
        if stored.filesystem.get_file_info(stored.path).type != FileType.NotFound:
            return result
    return None


def register_checkpoints_once() -> None:
    """From now on, a checkpoint registered again replaces its entry in its trial's list.

    Ray's ``_CheckpointManager.register_checkpoint`` appends every registration. PBT's save of a
    function trainable returns the checkpoint the trial reported last, which is registered a
    second time; with ``num_to_keep`` 1 (or once enough newer ones came) the older of the two
    entries is deleted, and with it the files of the trial's latest checkpoint. Idempotent.
    """
    from ray.train._internal.checkpoint_manager import _CheckpointManager

    rays_own = _CheckpointManager.register_checkpoint
    if getattr(rays_own, "registers_once", False):
        return

    def register_once(self: Any, checkpoint_result: Any) -> None:
        path = checkpoint_result.checkpoint.path
        self._checkpoint_results = [
            kept for kept in self._checkpoint_results if kept.checkpoint.path != path
        ]
        rays_own(self, checkpoint_result)

    register_once.registers_once = True  # type: ignore[attr-defined]
    _CheckpointManager.register_checkpoint = register_once  # type: ignore[method-assign]


def gone_checkpoints_count_as_deleted() -> None:
    """A checkpoint that ``num_to_keep`` drops and whose folder is already gone counts as
    deleted, instead of failing the experiment.

    Ray's experiment state lists each trial's kept checkpoints as they were at its last save,
    which can be up to ``num_to_keep`` checkpoints behind the trial's folder. A resumed
    experiment (``raytune-hpo resume``, a PBT run after Ctrl-C) can so hold a checkpoint that was
    deleted after that save; when a newer one pushes it out, Ray Train's ``_delete_fs_path``
    raised ``FileNotFoundError`` from the loop and the whole experiment ended with a
    ``TuneError``. Relies on ``ray.train._internal.checkpoint_manager`` calling the
    ``_delete_fs_path`` of its own module (``fs``, ``fs_path``). Idempotent.
    """
    from ray.train._internal import checkpoint_manager

    rays_own = checkpoint_manager._delete_fs_path
    if getattr(rays_own, "gone_is_deleted", False):
        return

    def delete_fs_path(fs: Any, fs_path: str) -> None:
        import pyarrow.fs

        if fs.get_file_info(fs_path).type == pyarrow.fs.FileType.NotFound:
            return
        rays_own(fs=fs, fs_path=fs_path)

    delete_fs_path.gone_is_deleted = True  # type: ignore[attr-defined]
    checkpoint_manager._delete_fs_path = delete_fs_path


def register_exploited_checkpoint(trial: Trial, checkpoint: Any, metrics: dict[str, Any]) -> None:
    """Make ``checkpoint``, reported with ``metrics``, ``trial``'s latest checkpoint, kept and
    deleted by its own ``num_to_keep`` like the ones it reported.

    Relies on ``_CheckpointManager.register_checkpoint`` and ``_TrainingResult``.
    """
    from ray.train._internal.session import _TrainingResult

    manager: Any = trial.run_metadata.checkpoint_manager
    manager.register_checkpoint(_TrainingResult(checkpoint=checkpoint, metrics=dict(metrics)))
