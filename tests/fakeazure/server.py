"""A local Azure for tests: HTTPS on 127.0.0.1 with a test CA (trustme).

It answers the sign-in endpoints (OpenID configuration and the v2.0 token endpoint) and the ARM routes that
loomctl uses, with REST bodies shaped like Microsoft's official examples (see `topology.py`) and following
ARM's contract (`contract.py`, CONTRACT.md): write-only properties never answered, pageable lists paged with
`nextLink`, errors as `{"error": {"code", "message"}}`. Tests change `server.state` to describe a deployment
and add `Fault`s to inject errors. Every request is recorded in `server.requests` with the answer it got
(`status`, `answer`; the Authorization header is reduced to its scheme).

Other test modules add routes with `server.route(method, regex, handler)`; a handler gets
`(request: Request, match: re.Match)` and returns `Response` (or a dict, served as 200 JSON).
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakeazure import contract

TENANT = "72f988bf-0000-4000-8000-00000000loom".replace("loom", "0001")
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "test-client-secret-not-real"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0  # the answer it got (set when sent)
    answer: bytes = b""
    arrived: float = field(default_factory=time.monotonic)  # when the server read it (benchmarks group rounds)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def api_version(self) -> str | None:
        return (self.query.get("api-version") or [None])[0]


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> raw
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Wave:
    """Requests whose answers `FakeAzure.hold_waves` holds until all of them have arrived."""

    members: set[tuple[str, str]]
    timeout: float = 10.0
    arrived: set[tuple[str, str]] = field(default_factory=set)
    released: bool = False
    timed_out: bool = False


@dataclass
class Fault:
    """Answer requests matching `path` (regex, searched in the path) with an error instead of the route.

    times: how many requests it affects (None = all). delay: seconds to sleep before answering (a slow server);
    with status None the request then proceeds to its route.
    """

    path: str
    status: int | None = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    times: int | None = None
    delay: float = 0.0
    hits: int = 0

    def matches(self, req: Request) -> bool:
        if self.method and self.method.upper() != req.method:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return re.search(self.path, req.path) is not None


def serve_https(ctx: ssl.SSLContext, handler: type[BaseHTTPRequestHandler], name: str) -> ThreadingHTTPServer:
    """A threaded HTTPS server on 127.0.0.1 (a free port), serving in a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True, name=name).start()
    return httpd


def arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


Handler = Callable[[Request, "re.Match[str]"], Any]


class FakeAzure:
    def __init__(self, certdir: str):
        import trustme

        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = f"{certdir}/test-ca.pem"
        self.ca.cert_pem.write_to_path(self.ca_path)
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self._ctx)
        self.state: dict[str, Any] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []  # added by tests, tried first
        self._default_routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.waves: list[Wave] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._local = threading.local()  # the deployment the current request's path names (main or fleet)
        self._install_default_routes()

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> FakeAzure:
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                outer._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._httpd = serve_https(self._ctx, H, "fake-azure")
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def reset(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.state = copy.deepcopy(state)
            self.faults = []
            self.requests = []
            self.tokens_issued = 0
            self.routes = []
            self.waves = []
            self.resource_graph.reset()  # a fresh quota window for each test

    # -- routing ------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, default: bool = False) -> None:
        """Add a route for the current test (reset clears it); `default` routes stay for the session."""
        entry = (method.upper(), re.compile(pattern), handler)
        if default:
            self._default_routes.append(entry)
        else:
            self.routes.insert(0, entry)

    def arm_requests(self, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/subscriptions")
                and (method is None or r.method == method.upper())]

    def counts(self, method: str | None = None) -> Counter[tuple[str, str]]:
        """How many times each ARM (method, path) was requested (pages of one list share a path)."""
        return Counter((r.method, r.path) for r in self.arm_requests(method))

    def hold_waves(self, waves: list[set[tuple[str, str]]], timeout: float = 10.0) -> None:
        """Hold the answer to each request of a wave (a set of (method, path)) until every request of that wave
        has arrived: a client that sends them all at once gets its answers; one that waits for an answer before
        sending the next request leaves the wave waiting until `timeout`, which the wave records (`timed_out`)
        and then stops holding."""
        with self._lock:
            self.waves = [Wave(set(w), timeout) for w in waves]

    def _hold(self, req: Request) -> None:
        key = (req.method, req.path)
        with self._arrived:
            wave = next((w for w in self.waves if key in w.members), None)
            if wave is None:
                return
            wave.arrived.add(key)
            self._arrived.notify_all()
            if not self._arrived.wait_for(lambda: wave.released or wave.members <= wave.arrived, wave.timeout):
                wave.timed_out = True
            wave.released = True

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        if "authorization" in headers:
            headers["authorization"] = headers["authorization"].split(" ")[0]
        req = Request(h.command, parsed.path, parse_qs(parsed.query), headers, body)
        with self._lock:
            self.requests.append(req)
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault:
                fault.hits += 1
            # the routes of the test the request arrived in: one answered after a delay (a slow-server fault whose
            # client timed out) must not land in the routes of the test that runs by then
            routes = list(self.routes)
        if self.waves:
            self._hold(req)
        resp: Response
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is None:
                resp = self._route(req, routes)
            else:
                resp = Response(fault.status, fault.body if fault.body is not None else
                                arm_error("InjectedFault", f"injected {fault.status}"), dict(fault.headers))
        else:
            resp = self._route(req, routes)
        self._send(h, resp, req)

    def _route(self, req: Request, routes: list[tuple[str, re.Pattern[str], Handler]]) -> Response:
        self._local.dep = self._deployment_of(req.path)
        for method, pattern, handler in routes + self._default_routes:
            if method != req.method:
                continue
            m = pattern.fullmatch(req.path)
            if m:
                try:
                    out = handler(req, m)
                except Exception as exc:  # noqa: BLE001 - a bug in a test route is a 500 the test will see
                    return Response(500, arm_error("TestServerBug", repr(exc)))
                return out if isinstance(out, Response) else Response(200, out)
        return Response(404, arm_error("NotFound", f"no route for {req.method} {req.path}"))

    def _send(self, h: BaseHTTPRequestHandler, resp: Response, req: Request) -> None:
        if isinstance(resp.body, (dict, list)):
            data = json.dumps(resp.body).encode()
            ctype = "application/json; charset=utf-8"
        elif isinstance(resp.body, str):
            data = resp.body.encode()
            ctype = "application/json; charset=utf-8"
        else:
            data = resp.body or b""
            ctype = "application/json"
        req.status, req.answer = resp.status, data
        try:
            h.send_response(resp.status)
            headers = {"Content-Type": ctype, **resp.headers}
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    # -- default routes: sign-in and ARM ------------------------------------------------------------------
    def _install_default_routes(self) -> None:
        r = lambda m, p, f: self.route(m, p, f, default=True)  # noqa: E731
        r("GET", r"/([^/]+)/v2\.0/\.well-known/openid-configuration", self._openid)
        r("POST", r"/([^/]+)/oauth2/v2\.0/token", self._token)
        sub = r"/subscriptions/([^/]+)"
        rg = sub + r"/resource[gG]roups/([^/]+)"
        app = rg + r"/providers/Microsoft\.App"
        r("GET", r"/subscriptions", self._list_subscriptions)
        r("GET", sub, self._get_subscription)
        r("GET", sub + r"/providers/Microsoft\.App", self._get_app_provider)
        r("GET", rg, self._get_resource_group)
        r("GET", app + r"/managedEnvironments/([^/]+)", self._get_environment)
        r("GET", app + r"/managedEnvironments/([^/]+)/storages", self._list_storages)
        r("GET", app + r"/managedEnvironments/([^/]+)/storages/([^/]+)", self._get_storage)
        st = r"/providers/Microsoft\.Storage/storageAccounts"
        r("GET", sub + st, self._list_storage_accounts)
        r("GET", rg + st + r"/([^/]+)", self._get_storage_account)
        r("GET", rg + st + r"/([^/]+)/fileServices/default/shares/([^/]+)", self._get_share)
        r("GET", app + r"/containerApps", self._list_apps)
        r("GET", app + r"/containerApps/([^/]+)", self._get_app)
        r("GET", app + r"/containerApps/([^/]+)/revisions", self._list_revisions)
        r("GET", app + r"/containerApps/([^/]+)/revisions/([^/]+)", self._get_revision)
        r("GET", app + r"/containerApps/([^/]+)/revisions/([^/]+)/replicas", self._list_replicas)
        r("GET", app + r"/containerApps/([^/]+)/revisions/([^/]+)/replicas/([^/]+)", self._get_replica)
        r("POST", app + r"/containerApps/([^/]+)/listSecrets", self._list_secrets)
        r("POST", rg + st + r"/([^/]+)/listKeys", self._list_keys)
        from tests.fakeazure.resourcegraph import PATH, ResourceGraph

        self.resource_graph = ResourceGraph(self)  # Resource Graph over the state's deployments (resourcegraph.py)
        r("POST", PATH, self.resource_graph)
        # Log Analytics query API: a healthy, quiet workspace (no rows). tests/loganalytics.py serves real rows.
        r("POST", r"/v1/workspaces/([^/]+)/query",
          lambda req, m: {"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]})

    def _openid(self, req: Request, m: re.Match[str]) -> Any:
        tenant = m.group(1)
        base = f"{self.url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "tenant_region_scope": "NA",
        }

    def _token(self, req: Request, m: re.Match[str]) -> Any:
        form = parse_qs(req.body.decode())
        if (form.get("client_id") or [""])[0] != CLIENT_ID or (form.get("client_secret") or [""])[0] != CLIENT_SECRET:
            return Response(401, {"error": "invalid_client",
                                  "error_description": "AADSTS7000215: Invalid client secret provided.",
                                  "error_codes": [7000215]})
        self.tokens_issued += 1
        return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                "access_token": f"fake-access-token-{self.tokens_issued}"}

    # ARM: the main deployment (`state`) or one of `state["fleet"]` (same shape), chosen by the path
    def _deployments(self) -> list[dict[str, Any]]:
        return [self.state, *(self.state.get("fleet") or [])]

    def _deployment_of(self, path: str) -> dict[str, Any]:
        m = re.match(r"/subscriptions/([^/]+)(?:/resource[gG]roups/([^/]+))?", path)
        if m:
            for dep in self._deployments():
                if dep.get("subscription") == m.group(1) and (
                        m.group(2) is None or str(dep.get("resource_group", "")).lower() == m.group(2).lower()):
                    return dep
        return self.state

    @property
    def _dep(self) -> dict[str, Any]:
        return getattr(self._local, "dep", None) or self.state

    def _sub_ok(self, sub: str) -> Response | None:
        if sub not in {d.get("subscription") for d in self._deployments()}:
            return Response(404, arm_error("SubscriptionNotFound", f"The subscription '{sub}' could not be found."))
        return None

    def _rg_ok(self, sub: str, rg: str) -> Response | None:
        if (bad := self._sub_ok(sub)) is not None:
            return bad
        if rg.lower() != str(self._dep.get("resource_group", "")).lower() or sub != self._dep.get("subscription"):
            return Response(404, arm_error("ResourceGroupNotFound", f"Resource group '{rg}' could not be found."))
        return None

    def _get_subscription(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._sub_ok(m.group(1))) is not None:
            return bad
        return {"id": f"/subscriptions/{m.group(1)}", "subscriptionId": m.group(1),
                "displayName": "LoomDB test subscription", "state": "Enabled", "tenantId": TENANT}

    def _list_subscriptions(self, req: Request, m: re.Match[str]) -> Any:
        """The subscriptions the identity sees (`az login` lists them)."""
        sub = self.state.get("subscription")
        return contract.page([{"id": f"/subscriptions/{sub}", "subscriptionId": sub, "displayName":
                               "LoomDB test subscription", "state": "Enabled", "tenantId": TENANT}] if sub else [],
                             self.url, req.path, req.query)

    def _get_app_provider(self, req: Request, m: re.Match[str]) -> Any:
        """The Microsoft.App resource provider, registered (`az containerapp` reads it for its api-versions; with no
        resource types listed it uses its own default version)."""
        if (bad := self._sub_ok(m.group(1))) is not None:
            return bad
        return {"id": f"/subscriptions/{m.group(1)}/providers/Microsoft.App", "namespace": "Microsoft.App",
                "registrationState": "Registered", "resourceTypes": []}

    def _get_resource_group(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._rg_ok(m.group(1), m.group(2))) is not None:
            return bad
        return {"id": f"/subscriptions/{m.group(1)}/resourceGroups/{self._dep['resource_group']}",
                "name": self._dep["resource_group"], "type": "Microsoft.Resources/resourceGroups",
                "location": "eastus",
                "properties": {"provisioningState": "Succeeded"}}

    def _env(self, m: re.Match[str]) -> dict[str, Any] | Response:
        if (bad := self._rg_ok(m.group(1), m.group(2))) is not None:
            return bad
        env = self._dep.get("environment")
        if not env or env["name"].lower() != m.group(3).lower():
            return Response(404, arm_error("ResourceNotFound",
                                           f"The Resource 'Microsoft.App/managedEnvironments/{m.group(3)}' "
                                           f"under resource group '{m.group(2)}' was not found."))
        return env

    def _get_environment(self, req: Request, m: re.Match[str]) -> Any:
        return contract.view("environment", self._env(m))

    def _list_storages(self, req: Request, m: re.Match[str]) -> Any:
        env = self._env(m)
        if isinstance(env, Response):
            return env
        # ManagedEnvironmentStoragesCollection: `value` only, not pageable (no x-ms-pageable on the operation)
        return {"value": [contract.view("envStorage", s) for s in self._dep.get("storages", {}).values()]}

    def _get_storage(self, req: Request, m: re.Match[str]) -> Any:
        env = self._env(m)
        if isinstance(env, Response):
            return env
        st = self._dep.get("storages", {}).get(m.group(4))
        if st is None:
            return Response(404, arm_error("ResourceNotFound", f"storage '{m.group(4)}' was not found."))
        return contract.view("envStorage", st)

    def _storage_account(self, m: re.Match[str]) -> dict[str, Any] | Response:
        if (bad := self._rg_ok(m.group(1), m.group(2))) is not None:
            return bad
        acct = self._dep.get("storage_accounts", {}).get(m.group(3))
        if acct is None or f"/resourceGroups/{m.group(2)}/".lower() not in acct["id"].lower():
            return Response(404, arm_error("ResourceNotFound",
                                           f"The Resource 'Microsoft.Storage/storageAccounts/{m.group(3)}' under "
                                           f"resource group '{m.group(2)}' was not found."))
        return acct

    def _list_storage_accounts(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._sub_ok(m.group(1))) is not None:
            return bad
        return contract.page(list(self._dep.get("storage_accounts", {}).values()), self.url, req.path, req.query)

    def _get_storage_account(self, req: Request, m: re.Match[str]) -> Any:
        return self._storage_account(m)

    def _get_share(self, req: Request, m: re.Match[str]) -> Any:
        acct = self._storage_account(m)
        if isinstance(acct, Response):
            return acct
        share = self._dep.get("shares", {}).get(f"{m.group(3)}/{m.group(4)}")
        if share is None:
            return Response(404, arm_error("ShareNotFound", "The specified share does not exist."))
        share = copy.deepcopy(share)
        if "stats" not in (req.query.get("$expand") or [""])[0]:
            share["properties"].pop("shareUsageBytes", None)
        return share

    def _app(self, m: re.Match[str]) -> dict[str, Any] | Response:
        if (bad := self._rg_ok(m.group(1), m.group(2))) is not None:
            return bad
        app = self._dep.get("apps", {}).get(m.group(3))
        if app is None:
            return Response(404, arm_error("ResourceNotFound",
                                           f"The Resource 'Microsoft.App/containerApps/{m.group(3)}' under resource "
                                           f"group '{m.group(2)}' was not found."))
        return app

    def _list_apps(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._rg_ok(m.group(1), m.group(2))) is not None:
            return bad
        apps = [contract.view("containerApp", a) for a in self._dep.get("apps", {}).values()]
        return contract.page(apps, self.url, req.path, req.query)

    def _get_app(self, req: Request, m: re.Match[str]) -> Any:
        return contract.view("containerApp", self._app(m))

    def _list_secrets(self, req: Request, m: re.Match[str]) -> Any:
        """POST listSecrets: the one answer with secret values (SecretsCollection of ContainerAppSecret)."""
        app = self._app(m)
        if isinstance(app, Response):
            return app
        secrets = ((app.get("properties") or {}).get("configuration") or {}).get("secrets") or []
        return {"value": [{k: s[k] for k in ("name", "value", "keyVaultUrl", "identity") if s.get(k) is not None}
                          for s in secrets]}

    def _list_keys(self, req: Request, m: re.Match[str]) -> Any:
        """POST listKeys: the storage account keys (StorageAccountListKeysResult), never in the account's GET."""
        acct = self._storage_account(m)
        if isinstance(acct, Response):
            return acct
        return {"keys": copy.deepcopy((self._dep.get("storage_keys") or {}).get(m.group(3), []))}

    def _list_revisions(self, req: Request, m: re.Match[str]) -> Any:
        app = self._app(m)
        if isinstance(app, Response):
            return app
        return contract.page(list(self._dep.get("revisions", {}).get(m.group(3), [])), self.url, req.path, req.query)

    def _revision(self, m: re.Match[str]) -> dict[str, Any] | Response:
        app = self._app(m)
        if isinstance(app, Response):
            return app
        for rev in self._dep.get("revisions", {}).get(m.group(3), []):
            if rev["name"] == m.group(4):
                return rev
        return Response(404, arm_error("ContainerAppRevisionNotFound", f"revision '{m.group(4)}' not found"))

    def _get_revision(self, req: Request, m: re.Match[str]) -> Any:
        return self._revision(m)

    def _list_replicas(self, req: Request, m: re.Match[str]) -> Any:
        rev = self._revision(m)
        if isinstance(rev, Response):
            return rev
        # ReplicaCollection: `value` only, not pageable
        return {"value": list(self._dep.get("replicas", {}).get(m.group(4), []))}

    def _get_replica(self, req: Request, m: re.Match[str]) -> Any:
        rev = self._revision(m)
        if isinstance(rev, Response):
            return rev
        for rep in self._dep.get("replicas", {}).get(m.group(4), []):
            if rep["name"] == m.group(5):
                return rep
        return Response(404, arm_error("ContainerAppReplicaNotFound", f"replica '{m.group(5)}' not found"))
