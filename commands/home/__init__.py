"""The App Home dashboard and `/platform requests`, `approvals`, `cancel ID`."""
