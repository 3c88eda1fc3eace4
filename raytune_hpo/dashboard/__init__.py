"""``raytune-hpo dashboard``: a local, read-only web page over experiment and study folders.

- :mod:`~raytune_hpo.dashboard.folders`: which folders under the root are experiments or
  studies;
- :mod:`~raytune_hpo.dashboard.files`: JSON and JSON-lines files read while they are written;
- :mod:`~raytune_hpo.dashboard.index`: one cheap row per experiment and study;
- :mod:`~raytune_hpo.dashboard.trials`: an experiment's trials, their reports, ends and errors;
  :mod:`~raytune_hpo.dashboard.curves`: a trial's curves with its restarts and PBT's exploits;
  :mod:`~raytune_hpo.dashboard.parallel_axes`: the parallel coordinates' axes;
- :mod:`~raytune_hpo.dashboard.experiment_page`, :mod:`~raytune_hpo.dashboard.trial_page`,
  :mod:`~raytune_hpo.dashboard.study_page`: what a page draws, as JSON;
- :mod:`~raytune_hpo.dashboard.app`, :mod:`~raytune_hpo.dashboard.server`: the Starlette app and
  its uvicorn server; the page, its scripts (``dashboard.js``, with ``experiment.js`` and
  ``trial.js``) and style sheet are hand-written files in ``static/``.

Reads its files through :class:`raytune_hpo.storage.stamped.Store` (a local folder or a storage
URI, each file with its stamp; a name from a URL to a folder that never leaves the root) and Ray's
state through :mod:`raytune_hpo.storage.ray_state`. May import ``config``, ``search``,
``analysis``, ``ray_compat``, ``storage`` and the shared top-level modules.
"""
