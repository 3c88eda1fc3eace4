"""Every use of Ray's private API (:mod:`~raytune_hpo.ray_compat.ray_internals`), checked
against the pinned Ray minor by ``tests/unit/test_ray_internals.py``."""
