"""`/platform whoami`: what the bot knows about you and what the policy lets you run."""
