"""The check framework (spec, inputs, providers, runner, registry, plan, render) and its categories.

May import: loomctl.core, loomctl.output, and (from categories/) the domain packages they judge."""
