"""Running an experiment: orchestration only.

- :mod:`~raytune_hpo.experiment.runner`: the one place that builds ``tune.Tuner``; run, resume;
- :mod:`~raytune_hpo.experiment.scoring`: the best trial scored on the test split, ``best.json``;
- :mod:`~raytune_hpo.experiment.preflight`: checks before Ray starts;
- :mod:`~raytune_hpo.experiment.trial_checks`: checks on what trials report (fail fast, the
  metric);
- :mod:`~raytune_hpo.experiment.interrupts`: Ctrl-C and the end of a time budget;
- :mod:`~raytune_hpo.experiment.scoring_import`: the test-split scoring code, imported while
  the trials run;
- :mod:`~raytune_hpo.experiment.finished_trials`: less kept in the driver of a trial that
  finished;
- :mod:`~raytune_hpo.experiment.study`: ``raytune-hpo study``, methods x seeds.

Not named ``run``: ``raytune_hpo.run`` is the function that runs an experiment from Python.
May import ``registry``, ``ray_compat``, ``storage``, ``demos``, ``adapters``, ``search``,
``config``, ``analysis``, ``cluster``, ``tracking``, ``console`` and the shared top-level modules.
That is every part but the dashboard, the Python API and the command line.
"""
