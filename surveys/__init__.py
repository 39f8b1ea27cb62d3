"""Feedback loops: NPS surveys, action satisfaction checks and office hours."""
