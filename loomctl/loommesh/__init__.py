"""LoomMesh (GUN) diagnostics: the wire client, peer discovery, DNS, peer and write probes."""
