"""How results reach the user: formats chosen once (table/json/yaml/tsv/none, --query), the stderr messages and
consoles (`ui`), stdout and stderr through the credential mask and the `--debug` log (`masked`), and one
`views/` module per domain that turns plain data into tables.

May import: loomctl.core; `views/` may also import the domain packages whose data it shows."""
