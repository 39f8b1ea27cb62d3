"""How an environment's resources are made and removed: `local` (the bot's provisioners,
local.py) and `terraform` (a module, terraform.py), behind one protocol (base.py)."""
