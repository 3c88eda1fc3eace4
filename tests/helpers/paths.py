"""Where the repository is, wherever in ``tests/`` the module asking lives."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root folder: the one holding ``raytune_hpo/``, ``configs/`` and ``tests/``."""
