"""Feedback loops: NPS campaigns (nps/), action CSAT (csat/) and office hours (office_hours/).

Each is a feature on its own (its `feature.py`), and each has the same anatomy: feature.py,
handlers.py, views.py, service (a module, or a package of services), jobs.py where it has a
durable job, models.py, ids.py. What the family shares lives here: `config.py` (the one
`surveys:` section all three read), `sections.py`, `delivery.py` (the outbox every survey
message goes through) and `schedule.py`.
"""
