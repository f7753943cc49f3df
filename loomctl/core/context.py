"""The typed object every command receives instead of a raw `ctx.obj`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from loomctl.core.once import OncePerKey
from loomctl.output.formats import Format, Output, default_format

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession
    from loomctl.core.settings import Settings


@dataclass
class LoomContext:
    output_format: Format | None = None
    query: str | None = None
    debug: bool = False
    profile: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _azure: AzureSession | None = None
    _once: OncePerKey = field(default_factory=OncePerKey, repr=False, compare=False)  # checks ask from threads

    @property
    def output(self) -> Output:
        return Output(self.output_format or default_format(), self.query)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self._once.get("settings", self._resolve_settings)
        return self._settings

    @property
    def azure(self) -> AzureSession:
        """The Azure session (credential and clients), built on first use."""
        if self._azure is None:
            self._azure = self._once.get("azure", self._new_session)
        return self._azure

    def _resolve_settings(self) -> Settings:
        from loomctl.core.settings import resolve

        return resolve(self.flags, self.profile)

    def _new_session(self) -> AzureSession:
        import logging

        if not self.settings.azure_enabled:
            raise self.settings.no_azure()

        from loomctl.azure.session import AzureSession

        if not self.debug:  # the SDKs log failures as warnings; loomctl reports them itself, once
            for name in ("azure", "msal", "urllib3"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        return AzureSession(self.settings)


def get_context(ctx: click.Context | None = None) -> LoomContext:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, LoomContext):
        root.obj = LoomContext()
    return root.obj


pass_loom = click.make_pass_decorator(LoomContext, ensure=True)
