"""The built-in demos: LeNet, DCGAN and ``sleep``, each as Ray Tune runs it.

- :mod:`~raytune_hpo.demos.trainables`: the ``TRAINABLES`` registry of the demos, whose code is
  imported when a trial first needs it;
- :mod:`~raytune_hpo.demos.epoch_loop`, :mod:`~raytune_hpo.demos.lenet`,
  :mod:`~raytune_hpo.demos.dcgan`, :mod:`~raytune_hpo.demos.sleep`,
  :mod:`~raytune_hpo.demos.torch_common`, :mod:`~raytune_hpo.demos.options`,
  :mod:`~raytune_hpo.demos.trial_settings`: their epoch loop, steps, options and settings;
- :mod:`~raytune_hpo.demos.lenet_model`, :mod:`~raytune_hpo.demos.dcgan_model`: their torch
  networks; :mod:`~raytune_hpo.demos.datasets`: their data sets;
  :mod:`~raytune_hpo.demos.inception_score`: DCGAN's metric.

The user's own code runs through :mod:`raytune_hpo.adapters` instead. Importing this package
imports nothing: each module is imported by name. May import ``registry``, ``ray_compat`` (the
trial worker's per-report artifact check, made as a built-in trial starts) and the shared
top-level modules.
"""
