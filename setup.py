"""Lets ``scrapyd-deploy`` build the egg (``setup.py bdist_egg``); the metadata is in pyproject.toml.

Without this file scrapyd-deploy writes its own, which packages every
directory with an ``__init__.py`` (tests, benchmarks) and leaves the file
behind in the working tree.
"""

from setuptools import setup

setup()
