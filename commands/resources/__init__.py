"""What the resource features (`new_db`, `environments`) share: the `databases:` section
(engines, plans, tiers, quotas, Vault) and the credential box that seals passwords at rest.

Not a feature: nothing here registers a command. Both features declare the `databases`
section with the same model, so the runtime validates it once.
"""
