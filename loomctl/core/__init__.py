"""What every command shares: errors and exit codes, the typed context, option decorators, the lazy command
group, settings and profiles, clouds, time parsing, atomic file writes, retry/deadline, secret detection.

May import: the standard library, click. Nothing else in loomctl (everything else may import it)."""
