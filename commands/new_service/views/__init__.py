"""Block Kit of `/platform new-service`: the form (modals) and the DMs (messages)."""
