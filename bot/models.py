"""Imports every module that defines tables, so `Base.metadata` is complete.

Alembic's env.py and the schema tests import this module; add a line when a package
gains a `models` module.
"""

from bot.db import Base

__all__ = ["Base"]
