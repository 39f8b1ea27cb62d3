"""`/platform audit`: admins read and export the audit log in chat."""
