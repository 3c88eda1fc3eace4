"""Every use of Ray's private API, in one place, each written for one Ray minor version.

Ray keeps no promise about what these modules touch: names under ``ray._private``, attributes
and methods whose names start with ``_``, the ``ray.init`` keyword ``_system_config``, the
lines of Ray's own files and the attributes of Ray Tune's ``Trial`` that only its internals set.
Each use is one small function or constant, whose docstring says what it relies on; the rest
of the package calls these and touches nothing private of Ray itself. One module per topic:

- :mod:`~raytune_hpo.ray_compat.version`: the Ray minor (:data:`~raytune_hpo.ray_compat.version.
  RAY_MINOR`), and every private name relied on (``PRIVATE_NAMES``, ``OVERRIDDEN_HOOKS``: the
  private members that classes of the package override, such as
  :class:`raytune_hpo.tracking.result_json_logger.ResultJsonLogger`) with the check that each
  still exists;
- :mod:`~raytune_hpo.ray_compat.connecting`: starting or attaching to Ray, prestarted workers,
  token authentication, the cluster's config;
- :mod:`~raytune_hpo.ray_compat.tune_loop`: Ray Tune's loop, its callbacks and trials;
- :mod:`~raytune_hpo.ray_compat.sessions`: a function trainable's session;
- :mod:`~raytune_hpo.ray_compat.trial_storage`: a trial worker's look at its artifacts;
- :mod:`~raytune_hpo.ray_compat.checkpoints`: a trial's checkpoint manager;
- :mod:`~raytune_hpo.ray_compat.output`: the worker output Ray forwards;
- :mod:`~raytune_hpo.ray_compat.wandb_actors`: Ray's W&B callback and its actors;
- :mod:`~raytune_hpo.ray_compat.pbt_log`: PBT's own log of perturbations;
- :mod:`~raytune_hpo.ray_compat.tensorboard_files`: Ray Tune's TensorBoard logger, flushing less
  often.

``tests/unit/ray_compat/test_ray_internals.py`` checks that the installed Ray is the minor these
were written for and that every name still exists; the ``ray[tune]`` requirement in
``pyproject.toml`` is pinned to the same minor. A new Ray minor means re-checking each
function here, then moving both. Importing these modules imports nothing of Ray: each function
imports what it needs when called. May import only the shared top-level modules.
"""
