"""Block Kit and mrkdwn for the lookups: pure builders and parsers, one module per surface.

- `cards`: the owner, on-call and service-card answers;
- `search`: catalog search results and the "which one?" menu for an ambiguous name;
- `refresh`: what `/platform catalog refresh` answers and reports;
- `paging`: the page-on-call modals;
- `reports`: the DMs the jobs send, plain mrkdwn without slack_sdk;
- `text`: the mrkdwn pieces the others are made of (people, teams, shifts, links, lists, and
  moments in the reader's time zone); `markdown`: catalog Markdown as mrkdwn;
- `blocks`: the Block Kit helpers they share.

This file imports nothing on purpose: the jobs import `reports`, and importing the package
must not load slack_sdk for them.
"""
