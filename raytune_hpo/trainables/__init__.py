"""What a trial runs: the built-in trainables and the user's code, each as Ray Tune runs it.

- :mod:`~raytune_hpo.trainables.builtin`: the ``TRAINABLES`` registry of the built-in demos
  (LeNet, DCGAN, sleep), whose code is imported when a trial first needs it;
- :mod:`~raytune_hpo.trainables.epoch_loop`, ``lenet``, ``dcgan``, ``sleep``, ``common``,
  ``options``, ``trial``: the built-ins' epoch loop, steps, options and settings;
- :mod:`~raytune_hpo.trainables.models`: their torch networks; :mod:`~raytune_hpo.trainables.data`:
  their data sets; :mod:`~raytune_hpo.trainables.inception_score`: DCGAN's metric;
- :mod:`~raytune_hpo.trainables.user_code`: a function or ``Trainable`` class by import path;
  :mod:`~raytune_hpo.trainables.restore_check`: warns when such a function ignores a restore;
- :mod:`~raytune_hpo.trainables.command`: a script run as a trial.

May import :mod:`raytune_hpo.search` registries' helpers, :mod:`raytune_hpo.ray_compat`, the
shared top-level modules; never ``experiment``, ``console``, ``analysis`` or ``cli``. Importing this
package imports nothing: each module is imported by name.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """What this package's ``__init__`` held in earlier versions (now
    :mod:`~raytune_hpo.trainables.builtin`): experiments written then name it in their pickled
    trainables."""
    import importlib

    try:
        return getattr(importlib.import_module("raytune_hpo.trainables.builtin"), name)
    except AttributeError:
        raise AttributeError(f"module 'raytune_hpo.trainables' has no attribute {name!r}") from None
