"""The command tree, one module per command (group), mirroring `loomctl <command>`: click only (parse the
options, call a function of the package that holds the logic, render through `loomctl.output`).

May import: everything below it. Nothing below may import it (or `loomctl.cli`)."""
