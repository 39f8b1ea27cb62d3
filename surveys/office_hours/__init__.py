"""Office hours: `/platform office-hours`, reminder buttons, the question modal, follow-ups."""
