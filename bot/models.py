"""Imports every module that defines tables, so `Base.metadata` is complete.

Alembic's env.py and the schema tests import this module; add a line when a package
gains a `models` module.
"""

import bot.audit  # audit_record (append-only triggers attach on create)
import bot.idempotency  # idempotency_key
import bot.identity  # identity_user
import bot.jobs  # job
import bot.scheduler  # scheduler_job (APScheduler's job store)
import bot.usage  # noqa: F401  command_usage
from bot.db import Base

__all__ = ["Base"]
