"""Ownership, on-call and service lookups: `/platform owner|oncall|service|catalog`.

The runtime's feature list names `commands.lookup.feature.LookupFeature`; see feature.py.
"""
