"""How trials are chosen and scheduled: the searcher and scheduler registries and PBT.

- :mod:`~raytune_hpo.search.search_space`: the YAML search space -> ``ray.tune`` domains;
- :mod:`~raytune_hpo.search.searchers`, :mod:`~raytune_hpo.search.schedulers`: the
  ``SEARCHERS`` and ``SCHEDULERS`` registries (options model, builder, smoke settings, rules);
- :mod:`~raytune_hpo.search.pbt_explore`: PBT's bounded explore step;
  :mod:`~raytune_hpo.search.pbt_donors`: exploits that keep their donor's checkpoint;
  :mod:`~raytune_hpo.search.pbt_history`: every perturbation, recorded while the run goes.

May import ``registry``, ``ray_compat``, ``storage`` (its files) and the shared top-level
modules. An entry's builder and rules read an :class:`~raytune_hpo.registry.EntryContext`, never
the experiment config; builders import Ray Tune when called.
"""
