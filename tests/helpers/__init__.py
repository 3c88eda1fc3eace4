"""What more than one test module uses: helpers, stand-ins and constants, never tests.

A test module imports shared code from here (``from tests.helpers.user_code import ...``), never
from another test module or from ``conftest.py``, which keeps only fixtures.
"""
