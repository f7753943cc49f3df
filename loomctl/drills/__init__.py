"""Drills on a LoomMesh: a fresh peer joins and reads back probe nodes (`join`); a node is cut off, both sides
write, the link heals and every peer must converge by GUN's conflict rule (`partition`, the sandbox only)."""
