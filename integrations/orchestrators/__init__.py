"""Drivers for the platform's own orchestrators, behind one protocol (`base.Orchestrator`):
Kubernetes (Crossplane claims and composite resources, Kratix resource requests), the
Humanitec Platform Orchestrator and GitHub Actions workflows.

Each module talks to its product over its network API only and imports nothing of the bot;
the environments feature and new-db drive them through `base.Orchestrator`.
"""
