"""The user's own code, run as Ray Tune runs a trial: the adapters between it and the tuner.

- :mod:`~raytune_hpo.adapters.import_paths`: a function or ``Trainable`` class named by import
  path, or a Python callable;
- :mod:`~raytune_hpo.adapters.restore_check`: warns when such a function ignores a restore;
- :mod:`~raytune_hpo.adapters.command`: a script or program run as a trial.

The built-in demos live in :mod:`raytune_hpo.demos`. Importing this package imports nothing:
each module is imported by name. May import ``ray_compat`` and the shared top-level modules.
"""
