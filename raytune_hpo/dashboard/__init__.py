"""``raytune-hpo dashboard``: a local, read-only web page over experiment and study folders.

- :mod:`~raytune_hpo.dashboard.store`: the one way to the files, under a local folder or a
  storage URI, with each file's stamp; a name from a URL to a folder that never leaves the root;
- :mod:`~raytune_hpo.dashboard.folders`: which folders under the root are experiments or
  studies;
- :mod:`~raytune_hpo.dashboard.files`: JSON and JSON-lines files read while they are written;
- :mod:`~raytune_hpo.dashboard.index`: one cheap row per experiment and study;
- :mod:`~raytune_hpo.dashboard.experiment_page`, :mod:`~raytune_hpo.dashboard.study_page`: what
  a page draws, as JSON;
- :mod:`~raytune_hpo.dashboard.app`, :mod:`~raytune_hpo.dashboard.server`: the Starlette app and
  its uvicorn server; the page, its script and style sheet are hand-written files in
  ``static/``.

Reads the files ``summary`` and ``compare`` read, through ``analysis``, the PBT history reader
of ``search.pbt_history``, ``config`` names, ``layout`` and ``errors``; never imports
``experiment``, ``cli``, ``console`` or ``trainables``.
"""
