"""Probes that run inside a replica (through exec) so environment-internal names resolve as the app sees them."""
