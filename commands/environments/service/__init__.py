"""The environments feature's decisions and records; no Slack and no HTTP here."""
