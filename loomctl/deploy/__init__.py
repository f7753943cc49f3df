"""Rollouts and infrastructure: validation, the rollout state machine, the declarative spec and its diff."""
