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
