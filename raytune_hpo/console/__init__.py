"""What a person reads: while an experiment runs, and after.

- :mod:`~raytune_hpo.console.ray_output`: Ray's own output tamed for the output modes
  (loggers, the progress engine, worker output named by trial);
- :mod:`~raytune_hpo.console.formatting`: hyperparameters, durations and trial events as
  text (pure);
- :mod:`~raytune_hpo.console.progress`: where an experiment stands, its status line and bar;
- :mod:`~raytune_hpo.console.screen`: lines on the console, above the bar;
- :mod:`~raytune_hpo.console.header`: the experiment as the header shows it;
- :mod:`~raytune_hpo.console.callback`: the Ray Tune callback, one line per trial event;
- :mod:`~raytune_hpo.console.summary`: the summary, best trial and comparison table printed
  after a run (for the command line and :mod:`raytune_hpo.api`).

May import ``config``, ``search``, ``analysis`` (for the summary), ``ray_compat``, ``storage``
and the shared top-level modules.
"""

from raytune_hpo.moved_modules import old_attribute_getter

__getattr__ = old_attribute_getter(__name__)
