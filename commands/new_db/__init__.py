"""`/platform new-db`, `dbs` and `drop-db`: self-service databases, caches and queues.

The runtime's feature list names `commands.new_db.feature.NewDbFeature`; see feature.py.
"""
