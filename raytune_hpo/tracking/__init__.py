"""Where results are logged besides the console: W&B runs (offline by default), MLflow runs
and the experiment folder's result files.

- :mod:`~raytune_hpo.tracking.wandb_runs`: the W&B callback, one run per trial, grouped by method;
- :mod:`~raytune_hpo.tracking.mlflow_runs`: the MLflow callback, a parent run per experiment and a
  nested run per trial (:mod:`~raytune_hpo.tracking.mlflow_values` maps reports to metrics,
  :mod:`~raytune_hpo.tracking.mlflow_server` checks a tracking URI before Ray starts);
- :mod:`~raytune_hpo.tracking.tensorboard`: TensorBoard event files in each trial's folder;
- :mod:`~raytune_hpo.tracking.result_json_logger`: ``result.json`` of each trial.

May import ``config``, ``cluster``, ``ray_compat``, ``storage`` and the shared top-level modules.
"""

from raytune_hpo.moved_modules import old_attribute_getter

__getattr__ = old_attribute_getter(__name__)
