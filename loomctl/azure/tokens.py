"""One token per scope per process, and tokens kept between runs.

`CachedCredential` wraps the credential the session builds (DefaultAzureCredential), built only when a token must
be acquired (a run served from the cache never imports azure-identity). Concurrent `get_token` /
`get_token_info` calls for the same scopes and tenant wait for one acquisition (single flight: the waiters get its
token or its error); a token is used until 5 minutes before it expires. With `token_cache` on (the default;
`LOOMCTL_TOKEN_CACHE=0` turns it off) tokens are also kept in `tokens.json` in the cache folder
(`core/environment.cache_dir()`), mode 0600, written whole (`core/files.write_text_atomic`) under the file's lock
(`core/files.locked`). Like kubelogin's token cache, an entry's key is a SHA-256 of what names the identity that
signed in: the authority, the tenant, the client id (environment credentials) or the Azure CLI account (its
`azureProfile.json`), the credential chain chosen by `AZURE_TOKEN_CREDENTIALS`, and the scopes; a token is never
used for another identity. A file that is not valid JSON, not of the expected shape, not owned by this user or
readable by others is ignored and replaced, never fatal. A request with claims (a CAE challenge) always goes to
the credential, and its token replaces the kept one; a token Azure refused otherwise (a 401 without a claims
challenge, `azure/rest.py`) is dropped (`forget`), so the next run signs in afresh. Tokens never appear in
messages: errors here name the file, never its content.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loomctl.core import environment
from loomctl.core.once import once

MARGIN = 300  # seconds: a token is not used in its last 5 minutes
FILE_NAME = "tokens.json"
VERSION = 1
_IDENTITY_VARS = ("AZURE_TOKEN_CREDENTIALS", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_USERNAME",
                  "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CONFIG_DIR")  # in VARS


def cache_path() -> Path:
    return environment.cache_dir() / FILE_NAME


def cli_account() -> dict[str, str] | None:
    """The Azure CLI's signed-in account (its default subscription's user and tenant in `azureProfile.json`),
    read from the file rather than by starting `az`; None when there is none."""
    folder = environment.get("AZURE_CONFIG_DIR") or Path.home() / ".azure"
    try:
        data = json.loads((folder / "azureProfile.json").read_text(encoding="utf-8-sig"))
        for sub in data.get("subscriptions") or []:
            if isinstance(sub, dict) and sub.get("isDefault"):
                user = sub.get("user") or {}
                return {"user": str(user.get("name")), "type": str(user.get("type")),
                        "tenant": str(sub.get("tenantId"))}
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    return None


def identity(authority: str) -> dict[str, Any]:
    """What names the identity a DefaultAzureCredential signs in as, in this environment."""
    ident: dict[str, Any] = {"authority": authority.rstrip("/")}
    ident.update({name: str(environment.get(name) or "") for name in _IDENTITY_VARS})
    ident["cli_account"] = cli_account()
    return ident


def _now() -> float:
    return time.time()


def usable(expires_on: Any) -> bool:
    return isinstance(expires_on, (int, float)) and not isinstance(expires_on, bool) and \
        expires_on - MARGIN > _now()


class TokenFile:
    """The cache file: entries {key: {"token", "expires_on", "token_type"}}; anything unexpected reads as empty."""

    def __init__(self, path: Path):
        self.path = path

    def _foreign(self) -> bool:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        except OSError:
            return True
        if not stat.S_ISREG(st.st_mode):
            return True
        if os.name != "posix":  # pragma: no cover - no owner or group/other mode bits to check
            return False
        return st.st_uid != os.getuid() or bool(stat.S_IMODE(st.st_mode) & 0o077)

    def read(self) -> dict[str, dict[str, Any]]:
        if self._foreign():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("tokens"), dict):
            return {}
        return {k: v for k, v in data["tokens"].items()
                if isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("token"), str)
                and usable(v.get("expires_on"))}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.read().get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Add an entry (dropping expired ones); a file that cannot be written is left alone (best effort)."""
        from loomctl.core.errors import LoomError
        from loomctl.core.files import locked, write_text_atomic

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self._foreign():  # replaced, not rewritten in place (an existing file would keep its mode)
                self.path.unlink(missing_ok=True)
            with locked(self.path):
                tokens = self.read()
                tokens[key] = entry
                text = json.dumps({"version": VERSION, "tokens": tokens}, sort_keys=True)
                if self._foreign():
                    self.path.unlink(missing_ok=True)
                write_text_atomic(self.path, text, mode=0o600)
        except (OSError, LoomError):
            pass

    def drop(self, keys: set[str]) -> None:
        """Remove these entries, if the file holds any of them (best effort, as `put`)."""
        from loomctl.core.errors import LoomError
        from loomctl.core.files import locked, write_text_atomic

        try:
            if self._foreign() or not self.path.exists():
                return
            with locked(self.path):
                tokens = self.read()
                if not keys & tokens.keys():
                    return
                for key in keys:
                    tokens.pop(key, None)
                write_text_atomic(self.path, json.dumps({"version": VERSION, "tokens": tokens}, sort_keys=True),
                                  mode=0o600)
        except (OSError, LoomError):
            pass

    def delete(self) -> bool:
        """Remove the file (and its lock); True when there was one."""
        existed = self.path.exists() or self.path.is_symlink()
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".lock").unlink(missing_ok=True)
        return existed


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CachedCredential:
    """A credential (azure-core's TokenCredential and SupportsTokenInfo) that asks the inner credential once per
    scope. `build_inner()` makes that credential the first time a token must be acquired, so that a run whose tokens
    are all in the cache file never imports azure-identity (~0.4 s)."""

    def __init__(self, build_inner: Callable[[], Any], authority: str, persist: bool):
        self._inner = once(build_inner)
        self._built = False
        self._identity = identity(authority)
        self._file = TokenFile(cache_path()) if persist else None
        self._guard = threading.Lock()
        self._tokens: dict[str, Any] = {}  # key -> AccessTokenInfo
        self._flights: dict[str, _Flight] = {}
        self._forgotten: set[str] = set()  # keys whose token Azure refused in this process (`forget`)
        self.acquisitions = 0  # calls that reached the inner credential

    @property
    def inner(self) -> Any:
        value = self._inner()
        self._built = True
        return value

    def _key(self, scopes: tuple[str, ...], tenant_id: str | None, enable_cae: bool) -> str:
        doc = {"identity": self._identity, "scopes": sorted(scopes), "tenant": tenant_id or "", "cae": enable_cae}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def forget(self, *scopes: str, tenant_id: str | None = None) -> None:
        """Azure refused the token for `scopes` (a 401 that is no claims challenge): drop it from the cache file, so
        the next run signs in afresh, and, the first time in this process, from memory too, so that the requests
        still to come get one new token. A second refusal keeps the token in memory: requests that all fail
        with 401 do not start a sign-in (an `az` process) each."""
        keys = {self._key(scopes, tenant_id, cae) for cae in (False, True)}
        with self._guard:
            for key in keys - self._forgotten:
                self._tokens.pop(key, None)
            self._forgotten |= keys
        if self._file is not None:
            self._file.drop(keys)

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> Any:
        options = dict(options or {})
        key = self._key(scopes, options.get("tenant_id"), bool(options.get("enable_cae")))
        if options.get("claims"):  # a claims challenge: the kept token was refused; the new one replaces it
            info = self._acquire(scopes, options)
            self._keep(key, info)
            return info
        with self._guard:
            have = self._tokens.get(key)
            if have is not None and usable(have.expires_on):
                return have
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        assert flight is not None
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = self._load_or_acquire(key, scopes, options)
            with self._guard:
                self._tokens[key] = flight.value
            return flight.value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._guard:
                self._flights.pop(key, None)
            flight.done.set()

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        options: dict[str, Any] = {"enable_cae": enable_cae}
        if claims:
            options["claims"] = claims
        if tenant_id:
            options["tenant_id"] = tenant_id
        info = self.get_token_info(*scopes, options=options)
        return AccessToken(info.token, int(info.expires_on))

    def _load_or_acquire(self, key: str, scopes: tuple[str, ...], options: dict[str, Any]) -> Any:
        from azure.core.credentials import AccessTokenInfo

        if self._file is not None and (entry := self._file.get(key)) is not None:
            return AccessTokenInfo(entry["token"], int(entry["expires_on"]),
                                   token_type=str(entry.get("token_type") or "Bearer"))
        info = self._acquire(scopes, options)
        self._keep(key, info)
        return info

    def _keep(self, key: str, info: Any) -> None:
        with self._guard:
            self._tokens[key] = info
        if self._file is not None:
            self._file.put(key, {"token": info.token, "expires_on": int(info.expires_on),
                                 "token_type": getattr(info, "token_type", "Bearer") or "Bearer"})

    def _acquire(self, scopes: tuple[str, ...], options: dict[str, Any]) -> Any:
        from azure.core.credentials import AccessTokenInfo

        with self._guard:
            self.acquisitions += 1
        if hasattr(self.inner, "get_token_info"):
            return self.inner.get_token_info(*scopes, options=options)  # type: ignore[arg-type]
        kwargs = {k: v for k, v in options.items() if k in ("claims", "tenant_id", "enable_cae")}
        token = self.inner.get_token(*scopes, **kwargs)
        return AccessTokenInfo(token.token, int(token.expires_on))

    def close(self) -> None:
        if not self._built:
            return
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> CachedCredential:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()
