"""A training script run as a Ray Tune trial ("command trials"), one job per module.

- :mod:`~raytune_hpo.adapters.command.spec`: the ``trainable: {command: ...}`` section (pure);
- :mod:`~raytune_hpo.adapters.command.args`: hyperparameters into arguments (pure);
- :mod:`~raytune_hpo.adapters.command.program`: the code folder, program and script a command
  needs, checked before Ray starts (pure);
- :mod:`~raytune_hpo.adapters.command.metrics`: reports read from printed lines or TensorBoard
  event files (pure);
- :mod:`~raytune_hpo.adapters.command.state`: the state folder taken at each report (pure);
- :mod:`~raytune_hpo.adapters.command.command_trainable`: the process group, its guardian, and the
  function trainable that ties them to Ray Tune; :mod:`~raytune_hpo.adapters.command.rerun`:
  the ``command.sh`` each trial leaves in its folder.
"""
