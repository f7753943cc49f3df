"""What every command shares: errors and exit codes, the typed context, option decorators, the lazy command
group, settings and profiles, clouds, environment variables, time parsing, retry and deadlines, build-once
values, atomic file writes, TOML writing, secret detection.

May import: loomctl.output (the context holds the output handler); the context builds the Azure session on first
use. Everything else in loomctl may import core (docs/architecture.md)."""
