"""`loomctl lint`: deployment definitions (ARM templates, app exports, the spec) judged offline by doctor's
definition checks, each finding placed at the line and column of the property it judges."""
