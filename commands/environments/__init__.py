"""`/platform env`: whole environments (a set of resources, or a Terraform module) that are
planned before they are made, owned by a team, cloned with their data, extended, and
destroyed without leftovers."""
