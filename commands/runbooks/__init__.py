"""`/platform runbook`: declarative, audited runbooks run step by step from Slack."""
