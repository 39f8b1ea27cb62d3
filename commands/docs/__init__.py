"""`/platform docs QUERY`: full-text search over the platform's documentation trees."""
