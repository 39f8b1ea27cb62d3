"""`/platform new-service`: a new git repository from a copier template, in the catalog at once."""
