"""Platform maturity self-assessment: team leads rate their team on five levels per dimension."""
