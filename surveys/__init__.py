"""Feedback loops: NPS campaigns (nps/), action CSAT (csat/) and office hours (office_hours/).

`surveys.feature` assembles them for the composition root. This package's own module stays
empty: `bot.config` imports `surveys.config`, which must not pull in the rest of the bot.
"""
