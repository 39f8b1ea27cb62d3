"""Action CSAT: a 1-5 rating in the result thread of a platform action (see service.py)."""
