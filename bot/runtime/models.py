"""Imports every module that defines tables, so `Base.metadata` is complete.

The core's modules are listed here; each feature names its own `models` module in the
feature list. Alembic's env.py and the schema tests import this module.
"""

import importlib

import bot.core.audit  # audit_record (append-only triggers attach on create)
import bot.core.idempotency  # idempotency_key
import bot.core.identity  # identity_user
import bot.core.jobs  # job
import bot.core.scheduler  # scheduler_job (APScheduler's job store)
import bot.core.usage  # command_usage
import bot.runtime.installations  # noqa: F401  slack_bots, slack_installations, slack_oauth_states
from bot.core.db import Base
from bot.runtime.features import model_modules

for _module in model_modules():
    importlib.import_module(_module)

__all__ = ["Base"]
