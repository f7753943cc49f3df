#!/usr/bin/env python3
"""`loomctl exec` and the in-replica probes against the local doubles: wall times and command sizes.

    python benchmarks/bench_inside.py [--runs N]

Starts the local HTTPS Azure, the exec WebSocket double (it runs commands on this machine) and a real GUN relay
(npm gun from tests/node). Prints the median wall time of `loomctl exec -- true` as a process, of the node probe
and of the shell probe (getent + curl) run in-process, and the length of each probe's exec URL query (the
service cuts sessions after ~30 s idle and URLs have a length limit, so both must stay small).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())

    from tests.acafakes.exec_server import FakeExec
    from tests.acafakes.fixtures import add_auth_token_route
    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure
    from tests.gunrelay import Relays

    server = FakeAzure(str(tmp)).start()
    server.reset(topology.healthy())
    fake = FakeExec(server.ca).start()
    add_auth_token_route(server, fake.token)
    relays = Relays(tmp / "relays")
    port = relays.start().port
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=str(tmp / "config.toml"), LOOMCTL_CACHE_DIR=str(tmp / "cache"),
               AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID,
               AZURE_CLIENT_SECRET=CLIENT_SECRET, AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url,
               REQUESTS_CA_BUNDLE=server.ca_path, AZURE_SUBSCRIPTION_ID=topology.SUB,
               LOOMCTL_RESOURCE_GROUP=topology.RG, LOOMCTL_ENVIRONMENT=topology.ENV,
               AZURE_TOKEN_CREDENTIALS="EnvironmentCredential", LOOMCTL_ACA_DATAPLANE_ENDPOINT=fake.url)
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    try:
        walls = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([loomctl, "exec", "--app", "loom-node", "--", "true"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t)
        os.environ.update(env)
        from loomctl.core.context import LoomContext
        from loomctl.inside import run as inside
        from loomctl.inside import script

        peers = [(f"http://localhost:{port}/gun", "relay")]
        rows = {}
        for label, path_env in (("node probe", None), ("shell probe (getent+curl)", _image(tmp))):
            fake.path_env = path_env
            times, tool = [], ""
            for _ in range(args.runs):
                t = time.perf_counter()
                r = inside.probe(LoomContext(), "loom-node", hosts=["localhost"], peers=peers, timeout=3)
                times.append(time.perf_counter() - t)
                assert r.peers[0].ok, r.peers[0]
                tool = r.tool or "-"
            rows[label] = (statistics.median(times), tool)
        p = script.params(["gun-relay.internal.happyriver-4f1a2b3c.eastus.azurecontainerapps.io"],
                          [("http://gun-relay.internal.happyriver-4f1a2b3c.eastus.azurecontainerapps.io/gun",
                            "relay")], [], 5)
        print(f"{'measure':44} {'value':>12}")
        print(f"{'loomctl exec -- true (process), median':44} {statistics.median(walls) * 1000:9.0f} ms")
        for label, (med, tool) in rows.items():
            print(f"{label + ' in-process, median':44} {med * 1000:9.0f} ms  (tool: {tool})")
        print(f"{'node probe command, URL-encoded':44} {len(quote_plus(script.node_command(p))):9d} B")
        print(f"{'shell probe command, URL-encoded':44} {len(quote_plus(script.shell_command(p))):9d} B")
    finally:
        relays.stop_all()
        fake.stop()
        server.stop()


def _image(tmp: Path) -> str:
    import shutil

    d = tmp / "image-bin"
    d.mkdir(exist_ok=True)
    for t in ["sh", "base64", "awk", "sort", "tr", "sed", "grep", "head", "tail", "getent", "curl"]:
        src = shutil.which(t)
        if src and not (d / t).exists():
            (d / t).symlink_to(src)
    return str(d)


if __name__ == "__main__":
    main()
