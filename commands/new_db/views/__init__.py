"""Block Kit of the feature, pure builders and parsers: `modals` (the request, deny, drop,
extend, reveal and notice modals, and their parsers) and `messages` (the request card, the
approval, progress, hand-off, expiry warnings and the `dbs` listing).

Nothing here posts or opens anything: handlers.py opens the modals, notifier.py posts the
messages through the Messenger port.
"""
