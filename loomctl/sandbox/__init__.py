"""The local LoomMesh sandbox: a relay and two node peers (real GUN peers) on 127.0.0.1."""
