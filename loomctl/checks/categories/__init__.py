"""Check categories: one module each, with `CHECKS` (and optionally `providers(loom, apps)`)."""
