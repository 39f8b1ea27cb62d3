"""NPS campaigns: `/platform nps`, the survey DMs and modal, and the fan-out job."""
