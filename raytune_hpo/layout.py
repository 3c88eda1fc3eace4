"""Names shared by writers and readers: an experiment folder's files and columns, and the
environment a driver hands its Ray workers.

Imports nothing, so that reading a results folder never pulls in Ray Tune, torch or the
trainables, and a Ray worker can read it while it imports torch in the background.
"""

from __future__ import annotations

CONFIG_FILE = "raytune_hpo.yaml"
"""The resolved config, written into the experiment folder before any trial starts."""
BEST_FILE = "best.json"
"""The best trial, its config, metric, checkpoint and test-split metrics, written at the end."""
IMPORTANCE_FILE = "importance.json"
"""Each objective's hyperparameter importance, ``{objective: {param: importance}}``, written by
``summary`` (:mod:`raytune_hpo.analysis.importance`)."""
TRIALS_CSV = "trials.csv"
"""Every trial of an experiment, one row each (its end, config, epochs, last and best metric),
written by the summary, which prints only the best of many."""
TRIAL_ENDS_FILE = "trial_ends.json"
"""How every trial ended (:mod:`raytune_hpo.trial_ends`), written when the run ends (also by
Ctrl-C); ``complete`` tells a run that ended from one that was interrupted, ``state_file`` the
Ray Tune session it ends (a resumed run writes it again)."""
CONFIG_PREFIX = "config/"
"""Prefix of the hyperparameter columns of a reports frame (``config/learning_rate``)."""
LOCK_FILE = ".raytune_hpo.lock"
"""The lock of the run that uses an experiment folder (its host and pid inside), present while a
run holds the folder; readers of experiment folders skip it (a file whose name starts with a
dot, neither an experiment's config nor a trial folder)."""
STUDY_FILE = "study.json"
"""A study folder's settings and finished runs, which let the same study command continue it."""
COMPARISON_DIR = "comparison"
"""The folder, inside a study folder, into which the study's comparison is written."""
PRELOAD_ENV = "RAYTUNE_HPO_PRELOAD_TRAINABLES"
"""``0`` tells a local Ray instance's workers not to import torch ahead (see ``worker_preload``)."""
COMMAND_FILE = "command.sh"
"""A command trial's command as it last started (arguments, working directory, the variables the
toolkit set), in the trial's folder: a shell script that runs it again by hand."""
STDOUT_LOG = "stdout.log"
"""A command trial's standard output, in the trial's folder."""
STDERR_LOG = "stderr.log"
"""A command trial's standard error, in the trial's folder."""
PBT_HISTORY_FILE = "pbt_history.jsonl"
"""Every perturbation of PBT and PB2, one JSON object a line (:mod:`raytune_hpo.search.
pbt_history`), in the experiment folder."""
PBT_HISTORY_PLOT = "pbt_history.png"
"""The plot of :data:`PBT_HISTORY_FILE`, in the experiment folder."""
PARETO_PNG = "pareto_front.png"
"""The Pareto plot of a run with several objectives (every trial, the front drawn), in the
experiment folder; written by ``summary``."""
HYPERVOLUME_PNG = "hypervolume.png"
"""The comparison's hypervolume against wall-clock time (several objectives), in its folder."""
HYPERVOLUME_CSV = "hypervolume.csv"
"""The comparison's hypervolume histories (several objectives), one row per report, in its
folder."""
EXPLOIT_CHECKPOINT_PREFIX = "checkpoint_exploit_"
"""Names a copy of a donor's checkpoint in an exploiting trial's folder (PBT and PB2)."""
ANYTIME_PNG = "anytime.png"
"""The comparison's best metric so far against wall-clock time, in its folder."""
CURVES_PNG = "learning_curves.png"
"""The comparison's learning curves, in its folder."""
REPORTS_CSV = "reports.csv"
"""The comparison's reports, one row each, in its folder."""
RUNS_CSV = "runs.csv"
"""The comparison's experiments, one row each, in its folder."""
METHODS_CSV = "methods.csv"
"""The comparison's methods, one row each, in its folder."""
IMPORTANCE_CSV = "importance.csv"
"""The comparison's hyperparameter importance per method, objective and parameter, in its
folder."""
REPORT_MD = "report.md"
"""The comparison's report, in its folder."""
MLFLOW_RUN_FILE = "mlflow_run.json"
"""The experiment's MLflow parent run (``experiment_id``, ``run_id``), written when it starts:
``resume`` continues that run instead of starting another."""
MLFLOW_DIR = "mlflow"
"""The local MLflow store (a SQLite file and the artefacts), in the experiment folder, used when
no tracking server is named."""
MLFLOW_DB = "mlflow.db"
"""The local MLflow store's SQLite file, in :data:`MLFLOW_DIR`."""
PARTIAL_SUFFIX = ".partial"
"""Ends the name of a local file while it is written, before it is renamed over the old one."""
REPLACED_SUFFIX = ".replaced-"
"""Joins an experiment or study folder's name and a time stamp when ``--overwrite`` sets the
folder aside."""

# Ray Tune's own names, as Ray 2.60 writes them (``ray.tune.result`` and
# ``ray.tune.execution.experiment_state``); the storage tests check them against Ray.
RESULT_FILE = "result.json"
"""A trial's reports, one JSON object a line, in the trial's folder."""
PARAMS_FILE = "params.json"
"""A trial's config as JSON, in the trial's folder."""
PROGRESS_FILE = "progress.csv"
"""A trial's reports as CSV, in the trial's folder."""
ERROR_FILE = "error.txt"
"""A failed trial's traceback, in the trial's folder."""
STATE_FILE_PREFIX = "experiment_state-"
"""Ray Tune's state of one session of an experiment is ``experiment_state-<time>.json`` in the
experiment folder; the newest by name is the current one."""
STATE_FILE_SUFFIX = ".json"
"""Ends the name of a state file (:data:`STATE_FILE_PREFIX`)."""
STATE_FILES = f"{STATE_FILE_PREFIX}*{STATE_FILE_SUFFIX}"
"""A glob pattern of the state files."""
PBT_LOG_FILE = "pbt_global.txt"
"""What Ray's PBT appends one JSON line to per exploit, in the driver's copy of the experiment
folder (``PopulationBasedTraining._log_config_on_step``)."""
RAY_RESULT_KEYS = frozenset(
    {
        "timestamp",
        "checkpoint_dir_name",
        "done",
        "training_iteration",
        "trial_id",
        "date",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "hostname",
        "node_ip",
        "config",
        "time_since_restore",
        "iterations_since_restore",
        "experiment_tag",
        "should_checkpoint",
    }
)
"""Keys Ray adds to every result; what is left is what the trial reported."""
