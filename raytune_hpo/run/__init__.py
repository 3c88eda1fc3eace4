"""Running an experiment: orchestration only.

- :mod:`~raytune_hpo.run.runner`: the one place that builds ``tune.Tuner``; run, resume, score;
- :mod:`~raytune_hpo.run.preflight`: checks before Ray starts;
- :mod:`~raytune_hpo.run.trial_checks`: checks on what trials report (fail fast, the metric);
- :mod:`~raytune_hpo.run.interrupts`: Ctrl-C and the end of a time budget;
- :mod:`~raytune_hpo.run.scoring_import`: the test-split scoring code imported while trials run;
- :mod:`~raytune_hpo.run.study`: ``raytune-hpo study``, methods x seeds.

May import every other subpackage but ``cli``.
"""
