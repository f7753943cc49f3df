"""Azure Resource Manager and Log Analytics: the session (credential, clients, raw GETs), errors as LoomErrors,
the REST-shaped models, deployment reads, storage, writes, and Log Analytics queries.

May import: loomctl.core. Azure SDK imports stay inside functions."""
