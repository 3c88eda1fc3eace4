"""A training script run as a Ray Tune trial ("command trials"), one job per module.

- :mod:`~raytune_hpo.adapters.command.spec`: the ``trainable: {command: ...}`` section (pure);
- :mod:`~raytune_hpo.adapters.command.args`: hyperparameters into arguments (pure);
- :mod:`~raytune_hpo.adapters.command.program`: the code folder, program and script a command
  needs, checked before Ray starts (pure);
- :mod:`~raytune_hpo.adapters.command.formats`: the metrics formats, one registry entry each,
  and the reports they read from printed lines
  (:mod:`~raytune_hpo.adapters.command.line_formats`,
  :mod:`~raytune_hpo.adapters.command.line_reports`) or TensorBoard event files
  (:mod:`~raytune_hpo.adapters.command.tensorboard_reports`,
  :mod:`~raytune_hpo.adapters.command.event_files`,
  :mod:`~raytune_hpo.adapters.command.metric_names`), by the rules they share
  (:mod:`~raytune_hpo.adapters.command.report_rules`) (pure);
- :mod:`~raytune_hpo.adapters.command.state`: the state folder taken at each report (pure);
- :mod:`~raytune_hpo.adapters.command.command_trainable`: the process group, its guardian, and the
  function trainable that ties them to Ray Tune; :mod:`~raytune_hpo.adapters.command.rerun`:
  the ``command.sh`` each trial leaves in its folder.
"""
