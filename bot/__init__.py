"""Platform Bot: self-service for an internal developer platform, in Slack.

`bot/` is the composition root and the shared core. Features live in `commands/` and
`surveys/`; provider adapters in `integrations/`.
"""

__version__ = "0.1.0"
