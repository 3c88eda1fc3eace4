"""Private Ray used on Ray's W&B callback: its logging actors and what they log.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


def wandb_logging_actor_base() -> type:
    """Ray's per-trial W&B logging actor class, to subclass.

    Relies on ``ray.air.integrations.wandb._WandbLoggingActor``: ``run()`` logs until its queue
    says stop; the instance keeps the ``wandb`` module as ``_wandb``.
    """
    from ray.air.integrations.wandb import _WandbLoggingActor

    return _WandbLoggingActor


def actor_wandb(actor: Any) -> Any:
    """The ``wandb`` module a logging actor of :func:`wandb_logging_actor_base` uses."""
    return actor._wandb


def wandb_open_trials(callback: Any) -> list[Trial]:
    """The trials whose W&B logging actor a ``WandbLoggerCallback`` has not stopped yet.

    Relies on its ``_trial_queues`` (trial -> queue of the trial's logging actor).
    """
    return list(callback._trial_queues)


def wandb_logs_trial(callback: Any, trial: Trial) -> bool:
    """Whether a ``WandbLoggerCallback`` holds a logging actor for ``trial`` (``_trial_queues``)."""
    return trial in callback._trial_queues


def wandb_logging_future(callback: Any, trial: Trial) -> Any:
    """The object ref that ends with ``trial``'s logging actor (``_trial_logging_futures``)."""
    return callback._trial_logging_futures[trial]


def stop_wandb_logging(callback: Any, trial: Trial) -> None:
    """Tell ``trial``'s logging actor to finish: ``_signal_logging_actor_stop``."""
    callback._signal_logging_actor_stop(trial=trial)
