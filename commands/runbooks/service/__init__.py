"""The runbooks services: runs, approvals and the ports their steps go through."""
