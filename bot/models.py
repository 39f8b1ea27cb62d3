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
import commands.lookup.models  # catalog_entity, catalog_relation, catalog_refresh
import commands.new_db.models  # noqa: F401  db_request, db_resource, db_approval, db_credential_drop
import surveys.csat.models  # csat_request
import surveys.nps.models  # nps_campaign, _round, _delivery, _respondent, _answer
import surveys.office_hours.models  # noqa: F401  office_hours_session, _reminder, …
from bot.db import Base

__all__ = ["Base"]
