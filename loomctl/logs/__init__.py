"""Logs and metrics: canned KQL (`kql/`), which lines match (`matching`), the `loomctl logs` query (`query`),
where to query (`target`), history and --follow (`history`), the live log stream (`live`), metrics.

May import: loomctl.core, loomctl.azure, loomctl.aca, loomctl.output."""
