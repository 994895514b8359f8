"""Tests that need a real S3 store: Ceph's radosgw on loopback (tests/s3/radosgw.py).

A package so that its conftest.py is imported as `s3.conftest`, not as a second
top-level `conftest` (see tests/slurm/__init__.py).
"""
