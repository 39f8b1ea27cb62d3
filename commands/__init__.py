"""Slash-command features: one package per `/platform` subcommand family.

Each package has `register(app, router, service)` (its routing table), `handlers.py` (thin
Slack listeners), `views.py` (pure Block Kit builders and parsers) and, where it has domain
logic, `service.py` (no Slack imports).
"""
