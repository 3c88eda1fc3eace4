"""Reading experiments after (or while) they run: folders, results, comparisons and plots.

- :mod:`~raytune_hpo.analysis.storage`: where experiment folders live (a folder or a URI);
- :mod:`~raytune_hpo.analysis.results`: an experiment folder -> tidy frames;
- :mod:`~raytune_hpo.analysis.compare`, :mod:`~raytune_hpo.analysis.comparison_plots`:
  experiments side by side; :mod:`~raytune_hpo.analysis.pbt_history_plot`: PBT's perturbations.

Never imports torch, the trainables, ``experiment`` or ``cli``.
"""
