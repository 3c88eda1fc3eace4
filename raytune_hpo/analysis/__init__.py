"""Reading experiments after (or while) they run: folders, results, comparisons and plots.

- :mod:`~raytune_hpo.analysis.results`: an experiment folder -> tidy frames;
- :mod:`~raytune_hpo.analysis.compare`, :mod:`~raytune_hpo.analysis.comparison_plots`:
  experiments side by side; :mod:`~raytune_hpo.analysis.pbt_history_plot`: PBT's perturbations.

Reads and writes every file through :mod:`raytune_hpo.storage`; never imports torch. May import
``config``, ``search``, ``storage`` and the shared top-level modules.
"""
