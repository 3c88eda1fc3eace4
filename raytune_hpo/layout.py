"""Names of the files and columns an experiment folder holds, shared by writers and readers.

Imports nothing, so that reading a results folder never pulls in Ray Tune, torch or the
trainables.
"""

from __future__ import annotations

CONFIG_FILE = "raytune_hpo.yaml"
"""The resolved config, written into the experiment folder before any trial starts."""
BEST_FILE = "best.json"
"""The best trial, its config, metric, checkpoint and test-split metrics, written at the end."""
CONFIG_PREFIX = "config/"
"""Prefix of the hyperparameter columns of a reports frame (``config/learning_rate``)."""
STUDY_FILE = "study.json"
"""A study folder's settings and finished runs, which let the same study command continue it."""
COMPARISON_DIR = "comparison"
"""The folder, inside a study folder, into which the study's comparison is written."""
