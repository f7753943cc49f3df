"""Category "Configuration": the live app definitions against the reference architecture (corrected).

Every value comes from the live apps and environment: nothing here knows one deployment's names or domain.
"""

from __future__ import annotations

import re
from typing import Any

from loomctl.checks.base import AppRef, Outcome, failed, passed, spec_maker, warned
from loomctl.checks.categories.live import live_providers
from loomctl.core.secrets import holds_credential

CATEGORY = "Configuration"

GUN_PORT = 8765
MIN_REPLICAS = {"relay": 2, "node": 3}  # the reference's HA floor
WEBSOCKET_TRANSPORTS = {"auto", "http", "tcp"}  # http2 ingress does not carry the WebSocket upgrade


def _relay(apps: dict[str, Any]) -> Any:
    return apps["relay"]


def _node(apps: dict[str, Any]) -> Any:
    return apps["node"]


def _env(app: Any, name: str) -> tuple[bool, str | None, str | None]:
    """(present, value, secretRef) of an environment variable of the app's first container."""
    for c in app.containers[:1]:
        for e in c.env:
            if e.name == name:
                return True, e.value, e.secret_ref
    return False, None, None


def _update(app: Any, what: str) -> str:
    return f"`az containerapp update -n {app.name} -g <group> {what}`"


# -- relay ingress --------------------------------------------------------------------------------------------
def check_relay_internal(apps: dict[str, Any]) -> Outcome:
    relay = _relay(apps)
    ing = relay.ingress
    if ing is None:
        return failed(f"relay '{relay.name}' has no ingress: no LoomMesh peer can reach it",
                      f"enable internal ingress: `az containerapp ingress enable -n {relay.name} -g <group> "
                      f"--type internal --target-port {GUN_PORT} --transport http --allow-insecure`")
    if ing.external:
        where = ing.fqdn or "external: true"
        return failed(f"relay '{relay.name}' has external ingress ({where}): the LoomMesh relay is open to the "
                      "internet", f"make it internal: `az containerapp ingress update -n {relay.name} -g <group> "
                      "--type internal`", fqdn=ing.fqdn)
    return passed(f"relay '{relay.name}' ingress is internal ({ing.fqdn or 'external: false'})", fqdn=ing.fqdn)


def check_relay_target_port(apps: dict[str, Any]) -> Outcome:
    relay = _relay(apps)
    ing = relay.ingress
    if ing is None:
        return failed(f"relay '{relay.name}' has no ingress", "see LOOM201")
    _, value, _ = _env(relay, "GUN_PORT")
    listen = int(value) if value and value.isdigit() else GUN_PORT
    if ing.target_port != listen:
        return failed(f"relay '{relay.name}' ingress targets port {ing.target_port}, but GUN listens on {listen}"
                      f"{' (GUN_PORT)' if value else ''}: every peer connection is refused",
                      f"`az containerapp ingress update -n {relay.name} -g <group> --target-port {listen}`",
                      target_port=ing.target_port, listens=listen)
    return passed(f"ingress targets port {ing.target_port}, where GUN listens", target_port=ing.target_port)


def check_relay_transport(apps: dict[str, Any]) -> Outcome:
    relay = _relay(apps)
    ing = relay.ingress
    if ing is None:
        return failed(f"relay '{relay.name}' has no ingress", "see LOOM201")
    t = (ing.transport or "auto").lower()
    if t not in WEBSOCKET_TRANSPORTS:
        return failed(f"relay '{relay.name}' ingress transport is {ing.transport}: it does not carry the WebSocket "
                      "upgrade that LoomMesh peers use", f"`az containerapp ingress update -n {relay.name} -g <group> "
                      "--transport http` (or tcp with an exposed port)", transport=ing.transport)
    return passed(f"transport {t} carries WebSockets", transport=t)


# -- replicas ---------------------------------------------------------------------------------------------------
def check_min_replicas(app: AppRef, app_obj: Any) -> Outcome:
    floor = MIN_REPLICAS.get(app.role, 1)
    if app_obj.min_replicas < floor:
        why = ("a single replica restart interrupts LoomMesh sync for every node" if app.role == "relay"
               else "a single replica restart drops a third of the capacity and its LoomMesh peers")
        return failed(f"minReplicas of '{app.name}' is {app_obj.min_replicas}, below the {app.role} floor of "
                      f"{floor}: {why}", _update(app_obj, f"--min-replicas {floor}"),
                      min=app_obj.min_replicas, floor=floor)
    return passed(f"minReplicas {app_obj.min_replicas} (floor {floor}), maxReplicas {app_obj.max_replicas}",
                  min=app_obj.min_replicas, floor=floor)


# -- node LoomMesh settings -------------------------------------------------------------------------------------
def check_gun_enabled(apps: dict[str, Any]) -> Outcome:
    node = _node(apps)
    present, value, ref = _env(node, "GUN_ENABLED")
    if not present:
        return failed(f"GUN_ENABLED is not set on '{node.name}': its embedded LoomMesh peer does not start",
                      _update(node, "--set-env-vars GUN_ENABLED=true"))
    if ref:
        return passed(f"GUN_ENABLED comes from secret '{ref}' (not shown)")
    if (value or "").strip().lower() not in ("true", "1", "yes", "on"):
        return failed(f"GUN_ENABLED is '{value}' on '{node.name}': its embedded LoomMesh peer is off",
                      _update(node, "--set-env-vars GUN_ENABLED=true"), value=value)
    return passed(f"GUN_ENABLED={value}")


def check_gun_server_port(apps: dict[str, Any]) -> Outcome:
    node = _node(apps)
    present, value, _ = _env(node, "GUN_SERVER_PORT")
    if value != str(GUN_PORT):
        what = "is not set" if not present else f"is '{value}'"
        return failed(f"GUN_SERVER_PORT {what} on '{node.name}': its LoomMesh peer port must be {GUN_PORT}",
                      _update(node, f"--set-env-vars GUN_SERVER_PORT={GUN_PORT}"), value=value)
    return passed(f"GUN_SERVER_PORT={value}")


def check_gun_peers(apps: dict[str, Any], environment: Any) -> Outcome:
    from loomctl.loommesh.relay_urls import expected_urls, judge, split_peers

    node, relay = _node(apps), _relay(apps)
    present, value, ref = _env(node, "GUN_PEERS")
    expected = expected_urls(relay, environment.default_domain)
    fix_value = expected[0] if expected else f"http://{relay.name}.internal.{environment.default_domain}/gun"
    fix = _update(node, f"--set-env-vars GUN_PEERS={fix_value}")
    if ref:
        return warned(f"GUN_PEERS comes from secret '{ref}', which loomctl does not read",
                      f"make sure it holds a URL that reaches the relay, e.g. {fix_value}", expected=expected)
    urls = split_peers(value)
    if not urls:
        return failed(f"GUN_PEERS is not set on '{node.name}': its LoomMesh peer never dials the relay", fix,
                      expected=expected)
    verdicts = [judge(u, relay, environment.default_domain) for u in urls]
    good = [v for v in verdicts if v.ok]
    bad = [v for v in verdicts if not v.ok]
    details = {"value": value, "expected": expected,
               "verdicts": [{"url": v.url, "ok": v.ok, "problems": v.problems} for v in verdicts]}
    if not good:
        v = bad[0]
        return failed(f"GUN_PEERS {v.url} does not reach relay '{relay.name}': " + "; ".join(v.problems),
                      _update(node, f"--set-env-vars GUN_PEERS={v.suggestion or fix_value}"), **details)
    if bad:
        return warned(f"GUN_PEERS also lists {', '.join(v.url for v in bad)}, which does not reach this environment's "
                      f"relay ({'; '.join(bad[0].problems)})",
                      "remove it, unless it is a relay in another environment that this node must reach", **details)
    return passed(f"GUN_PEERS {good[0].url} reaches relay '{relay.name}'", **details)


# -- the mesh across relay replicas -----------------------------------------------------------------------------
RELAY_PEER_VARS = ("GUN_PEERS", "PEERS")  # the reference's name, and the stock gun image's
def _ways_out(relay: Any) -> str:
    return ("ways out: run one relay replica with a stable address ("
            + _update(relay, "--min-replicas 1 --max-replicas 1")
            + ", below LOOM204's HA floor: availability traded for one mesh); or give the relays a peer list that "
              "reaches each other (GUN_PEERS on the relay naming a second relay app, or TCP ingress with per-app "
              "addresses); or have the nodes dial more than one path (several relay URLs in their GUN_PEERS). "
              "Measure it: `loomctl diagnose mesh --write-probe`")


def _own_hosts(app: Any) -> set[str]:
    """The names under which an app reaches itself: its bare name and its ingress FQDN (both load-balanced)."""
    hosts = {app.name.lower()}
    if app.ingress is not None and app.ingress.fqdn:
        hosts.add(app.ingress.fqdn.lower())
    return hosts


def _hosts(value: str | None) -> list[str]:
    from loomctl.loommesh.peer_url import peer_host
    from loomctl.loommesh.relay_urls import split_peers

    out = []
    for url in split_peers(value):
        try:
            out.append(peer_host(url))
        except ValueError:
            continue
    return list({h.lower(): h for h in out}.values())


def check_relay_mesh(apps: dict[str, Any]) -> Outcome:
    relay, node = _relay(apps), _node(apps)
    most = max(relay.min_replicas, relay.max_replicas or relay.min_replicas)
    if most <= 1:
        return passed(f"relay '{relay.name}' runs one replica: every node dials the same relay process",
                      max=most)
    own = _own_hosts(relay)
    for var in RELAY_PEER_VARS:
        present, value, ref = _env(relay, var)
        if ref:
            return warned(f"relay '{relay.name}' takes {var} from secret '{ref}', which loomctl does not read: "
                          "whether its replicas peer each other is not known", _ways_out(relay), max=most)
        others = [h for h in _hosts(value) if h.lower() not in own]
        if others:
            return passed(f"relay replicas peer through {', '.join(others)} ({var} on the relay)", max=most,
                          peers=others)
    node_paths = _hosts(_env(node, "GUN_PEERS")[1])
    if len(node_paths) > 1:
        return passed(f"nodes dial {len(node_paths)} paths ({', '.join(node_paths)})", max=most, paths=node_paths)
    scale = (f"{relay.min_replicas}" if relay.max_replicas in (None, relay.min_replicas)
             else f"{relay.min_replicas}-{relay.max_replicas}")
    own_only = any(_hosts(_env(relay, v)[1]) for v in RELAY_PEER_VARS)
    why = ("its peer list names only its own load-balanced ingress, so each replica dials one random replica "
           "(or itself)" if own_only else "no relay replica peers the others (no GUN_PEERS on the relay)")
    return warned(f"relay '{relay.name}' runs {scale} replicas behind one load-balanced ingress and {why}: nodes "
                  "attached to different relay replicas do not sync, so the mesh can split", _ways_out(relay),
                  min=relay.min_replicas, max=relay.max_replicas)


# -- security ---------------------------------------------------------------------------------------------------
def check_https_only(app: AppRef, app_obj: Any) -> Outcome:
    ing = app_obj.ingress
    if ing is None:
        return passed("no ingress")
    if not ing.external:
        return passed("internal ingress" + (" (allowInsecure: plain HTTP only inside the environment)"
                                            if ing.allow_insecure else ""))
    if ing.allow_insecure:
        return failed(f"external ingress of '{app.name}' accepts plain HTTP (allowInsecure true): requests from the "
                      "internet travel unencrypted",
                      f"`az containerapp ingress update -n {app.name} -g <group> --allow-insecure false`",
                      fqdn=ing.fqdn)
    where = f"https://{ing.fqdn}" if ing.fqdn else f"of '{app.name}'"
    return passed(f"external ingress {where} redirects HTTP to HTTPS", fqdn=ing.fqdn)


def check_secrets(app: AppRef, app_obj: Any) -> Outcome:
    # ARM never returns a secret's value on GET: a secret without keyVaultUrl holds its value in the app
    plain = [s.name for s in app_obj.secrets if s.plain_value]
    if plain:
        used = sorted({e.name for c in app_obj.containers for e in c.env if e.secret_ref in plain})
        return failed(f"secret {', '.join(repr(n) for n in plain)} of '{app.name}' is stored as a plain value in the "
                      "app, not as a Key Vault reference" + (f" (used by {', '.join(used)})" if used else ""),
                      f"move it to Key Vault and reference it: `az containerapp secret set -n {app.name} -g <group> "
                      f"--secrets {plain[0]}=keyvaultref:<secret-url>,identityref:<identity-id>`", plain=plain,
                      used_by=used, path=f"properties.configuration.secrets[name={plain[0]}].keyVaultUrl")
    literal = [e.name for c in app_obj.containers for e in c.env
               if e.value and not e.secret_ref and holds_credential(e.value, e.name)]
    if literal:
        return failed(f"environment variable {', '.join(literal)} of '{app.name}' holds a literal value that looks "
                      "like a credential (value not shown)",
                      "store it as a Key Vault secret and set the variable with secretRef", literal=literal,
                      path=f"properties.template.containers[*].env[name={literal[0]}].value")
    kv = [s for s in app_obj.secrets if s.key_vault_url]
    if kv:
        ids = {k.lower() for k in ((app_obj.raw.get("identity") or {}).get("userAssignedIdentities") or {})}
        system = "systemassigned" in (app_obj.identity_type or "").lower()
        for s in kv:
            ident = (s.identity or "").lower()
            ok = (ident == "system" and system) or (ident and ident in ids)
            if not ok:
                return failed(f"Key Vault secret '{s.name}' of '{app.name}' names identity "
                              f"'{s.identity or 'none'}', which the app does not have",
                              f"assign it: `az containerapp identity assign -n {app.name} -g <group> "
                              "--user-assigned <identity-id>` (it needs 'Key Vault Secrets User')",
                              identity=s.identity)
        return passed(f"{len(kv)} secret(s) are Key Vault references read with a managed identity",
                      secrets=[s.name for s in kv])
    return passed("no secrets in the app")


def _gib(memory: str | None) -> float | None:
    if not memory:
        return None
    m = re.fullmatch(r"\s*([0-9.]+)\s*(Gi|G|Mi|M)?\s*", memory)
    if not m:
        return None
    n = float(m.group(1))
    return n / 1024 if (m.group(2) or "Gi").startswith("M") else n


def check_resources(app: AppRef, app_obj: Any, environment: Any) -> Outcome:
    profile = (app_obj.raw.get("properties") or {}).get("workloadProfileName")
    if profile and profile.lower() != "consumption":
        return passed(f"runs on workload profile '{profile}' (dedicated sizes are not checked)")
    cpus = [c.cpu for c in app_obj.containers]
    mems = [_gib(c.memory) for c in app_obj.containers]
    if any(c is None for c in cpus) or any(m is None for m in mems):
        return warned(f"'{app.name}' has a container without a readable cpu/memory request",
                      _update(app_obj, "--cpu 0.5 --memory 1Gi"))
    cpu, mem = round(sum(cpus), 2), round(sum(mems), 2)  # type: ignore[arg-type]
    wp = bool((environment.raw.get("properties") or {}).get("workloadProfiles"))
    top = 4.0 if wp else 2.0
    valid = abs(cpu * 4 - round(cpu * 4)) < 1e-6 and 0.25 <= cpu <= top and abs(mem - 2 * cpu) < 1e-6
    if not valid:
        near = min(max(round(cpu * 4) / 4, 0.25), top)
        return failed(f"'{app.name}' requests {cpu:g} vCPU and {mem:g}Gi, not a pair Container Apps accepts "
                      f"(memory must be 2 x CPU, CPU 0.25-{top:g} in steps of 0.25)",
                      _update(app_obj, f"--cpu {near:g} --memory {near * 2:g}Gi"), cpu=cpu, memory_gib=mem)
    return passed(f"{cpu:g} vCPU / {mem:g}Gi", cpu=cpu, memory_gib=mem)


def check_image_pinned(app: AppRef, app_obj: Any) -> Outcome:
    loose = []
    for c in app_obj.containers:
        image = c.image or ""
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if tag is None or tag.lower() == "latest":
            loose.append(image)
    if loose:
        return warned(f"image {loose[0]} of '{app.name}' is not pinned: a restart can pull a different version",
                      f"pin a tag or digest: {_update(app_obj, '--image <registry>/<name>:<version>')}", images=loose,
                      path=f"properties.template.containers[{_index(app_obj, loose[0])}].image")
    return passed(", ".join(c.image for c in app_obj.containers))


def _index(app_obj: Any, image: str) -> int:
    return next((i for i, c in enumerate(app_obj.containers) if c.image == image), 0)


def check_scale_rule(app: AppRef, app_obj: Any) -> Outcome:
    if not app_obj.scale_rules:
        return warned(f"'{app.name}' has no scale rule: it stays at its minimum of {app_obj.min_replicas} replicas "
                      "under any load", _update(app_obj, "--scale-rule-name http-scaling --scale-rule-type http "
                                                         "--scale-rule-http-concurrency 100"))
    return passed(f"scale rules: {', '.join(app_obj.scale_rules)}", rules=app_obj.scale_rules)


from loomctl.checks.categories.generic import GENERIC_CHECKS  # noqa: E402 - the generic rules, after the helpers

_spec = spec_maker(CATEGORY, after=("LOOM105",), needs_azure=True, fill_hints=True)


CHECKS = [
    _spec("LOOM201", "relay ingress is internal",
          "The relay has no ingress, or external ingress that puts the LoomMesh relay on the internet; the "
          "reference keeps it internal to the environment.",
          "`az containerapp ingress update -n <relay> --type internal`.",
          check_relay_internal, ("apps",)),
    _spec("LOOM202", "relay ingress targets GUN's port",
          "The relay's ingress forwards to a port where GUN does not listen (8765, or GUN_PORT), so every "
          "connection is refused.",
          "`az containerapp ingress update -n <relay> --target-port 8765`.",
          check_relay_target_port, ("apps",)),
    _spec("LOOM203", "relay transport carries WebSockets",
          "LoomMesh peers talk over WebSockets; an http2 ingress transport does not carry the upgrade.",
          "Use transport http or auto (or tcp with an exposed port).",
          check_relay_transport, ("apps",)),
    _spec("LOOM204", "minimum replicas meet the HA floor",
          "The reference runs at least 2 relay and 3 node replicas; fewer means a single restart interrupts sync or "
          "service.",
          "`az containerapp update --min-replicas 2` (relay) or `3` (node).",
          check_min_replicas, ("app_obj",), per_app=True),
    _spec("LOOM205", "node has GUN_ENABLED",
          "Without GUN_ENABLED=true the node's embedded LoomMesh peer does not start: the node neither syncs nor "
          "serves peers.",
          "`az containerapp update -n <node> --set-env-vars GUN_ENABLED=true`.",
          check_gun_enabled, ("apps",)),
    _spec("LOOM206", "node GUN_SERVER_PORT is 8765",
          "The node's LoomMesh server port must be 8765, the port the reference and other peers expect.",
          "`az containerapp update -n <node> --set-env-vars GUN_SERVER_PORT=8765`.",
          check_gun_server_port, ("apps",)),
    _spec("LOOM207", "node GUN_PEERS reaches the relay",
          "GUN_PEERS must name this environment's relay on a port its ingress exposes (80/443 for HTTP ingress, "
          "not the targetPort) and on the path /gun. The reference's `http://gun-relay.internal.<domain>:8765` "
          "fails on both counts with HTTP ingress.",
          "Set GUN_PEERS to the URL loomctl suggests (derived from the relay's live ingress).",
          check_gun_peers, ("apps", "environment")),
    _spec("LOOM208", "external ingress is HTTPS only",
          "An external ingress with allowInsecure accepts plain HTTP from the internet; the reference allows "
          "HTTPS only.",
          "`az containerapp ingress update -n <app> --allow-insecure false`.",
          check_https_only, ("app_obj",), per_app=True),
    _spec("LOOM209", "secrets are Key Vault references",
          "A secret stored as a plain value (or a credential in a literal environment variable) is readable by "
          "anyone who can read the app; the reference keeps secrets in Key Vault, read with a managed identity.",
          "Store the secret in Key Vault and reference it with `keyvaultref:` and an identity the app has.",
          check_secrets, ("app_obj",), per_app=True),
    _spec("LOOM210", "CPU and memory are a valid pair",
          "Container Apps (consumption) accepts only CPU 0.25-2 (4 with workload profiles) in 0.25 steps with "
          "twice as many GiB of memory; other pairs are rejected on the next update.",
          "`az containerapp update --cpu 0.5 --memory 1Gi` (or another accepted pair).",
          check_resources, ("app_obj", "environment"), per_app=True),
    _spec("LOOM211", "image pinned by tag or digest",
          "An image without a tag or tagged `latest` can change under a running app at the next restart.",
          "Deploy a versioned tag or a digest (`loomctl deploy`).",
          check_image_pinned, ("app_obj",), per_app=True),
    _spec("LOOM212", "app has a scale rule",
          "Without a scale rule the app never scales out beyond its minimum replicas.",
          "Add an HTTP or CPU scale rule (`az containerapp update --scale-rule-*`).",
          check_scale_rule, ("app_obj",), per_app=True),
    _spec("LOOM213", "relay replicas cannot split the mesh",
          "The relay runs (or may scale to) more than one replica behind one load-balanced ingress, and no relay "
          "replica peers the others: each node's connection lands on one replica, and nodes on different replicas "
          "sync only if some other chain of links joins them. Whether the mesh is whole changes with every restart "
          "and scale-out. Judged on the definition only; `loomctl diagnose mesh --write-probe` measures it.",
          "Run one relay replica with a stable address; or give the relays a peer list that reaches each other "
          "(a second relay app, or TCP ingress with per-app addresses); or have nodes dial more than one path.",
          check_relay_mesh, ("apps",)),
    *GENERIC_CHECKS,
]


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    return live_providers(apps)
