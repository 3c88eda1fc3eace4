"""What every Ray worker imports before it takes work (Ray's ``preload_python_modules``).

Importing the trainables package (and torch with it) here lets a trial start at once instead of
after seconds of imports; quieting Ray's SIGTERM at shutdown here covers workers stopped before
their first trial too.
"""

from raytune_hpo.trainables import common  # imports every trainable with the package

common.quiet_worker_termination()
