"""The docs feature's domain logic: reading trees, the index, search and votes (no Slack)."""
