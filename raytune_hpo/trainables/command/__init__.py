"""A training script run as a Ray Tune trial ("command trials"), one job per module.

- :mod:`~raytune_hpo.trainables.command.spec`: the ``trainable: {command: ...}`` section (pure);
- :mod:`~raytune_hpo.trainables.command.args`: hyperparameters into arguments (pure);
- :mod:`~raytune_hpo.trainables.command.program`: the code folder, program and script a command
  needs, checked before Ray starts (pure);
- :mod:`~raytune_hpo.trainables.command.metrics`: reports read from printed lines or TensorBoard
  event files (pure);
- :mod:`~raytune_hpo.trainables.command.state`: the state folder taken at each report (pure);
- :mod:`~raytune_hpo.trainables.command.trial`: the process group, its guardian, and the
  function trainable that ties them to Ray Tune; :mod:`~raytune_hpo.trainables.command.rerun`:
  the ``command.sh`` each trial leaves in its folder.
"""
