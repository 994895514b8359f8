"""Tests that need a real Slurm cluster (tests/slurm/slurm_cluster.py).

A package so that its conftest.py is imported as `slurm.conftest`: a second
top-level module named `conftest` would replace python/tests/conftest.py,
which python/tests' modules import by that name, when pytest collects both.
"""
