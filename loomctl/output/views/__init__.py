"""One module per domain: plain rows and rich tables for what a command shows (status, storage, results...)."""
