"""`/platform stats [PERIOD]`: adoption and outcome figures read back from what the bot records."""
