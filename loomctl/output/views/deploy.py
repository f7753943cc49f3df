"""What `loomctl deploy` shows: progress lines on stderr, the rollout summary, revision tables, infra diffs."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.deploy.infra import Change


class Progress:
    """Progress lines on stderr: rich with a spinner on a terminal, plain timestamped lines otherwise."""

    def __init__(self) -> None:
        from loomctl.output.ui import is_terminal

        self.start = time.monotonic()
        self.tty = is_terminal(sys.stderr)
        self._status: Any = None
        if self.tty:
            from loomctl.output.ui import console

            self.console = console(stderr=True)
            self._status = self.console.status("starting", spinner="dots")
            self._status.start()

    def __call__(self, text: str) -> None:
        from loomctl.output.text import visible

        text = visible(text)  # progress lines carry Azure's messages
        t = time.monotonic() - self.start
        if self.tty:
            from rich.text import Text

            style = "red" if ("failed" in text or "NOT" in text) else \
                "green" if text.startswith(("switched", "traffic", "rolled")) else ""
            self.console.print(Text(f"{t:6.1f}s ", style="dim") + Text(text, style=style), highlight=False)
            self._status.update(Text(text))
        else:
            click.echo(f"{t:6.1f}s {text}", err=True)

    def write(self, text: str) -> None:
        """A write log line (`write: PATCH ...`), printed above the spinner on a terminal."""
        from loomctl.output.text import visible

        text = visible(text)
        if self.tty:
            from rich.text import Text

            self.console.print(Text(text, style="cyan"), highlight=False)
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()


# -- deploy app ---------------------------------------------------------------------------------------------
def render_rollout(doc: dict[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for key in ("app", "mode", "result", "revision", "image", "previous_image", "message", "rollback"):
        if doc.get(key) not in (None, ""):
            t.add_row(key.replace("_", " ").capitalize(), Text(str(doc[key])))
    if doc.get("traffic") is not None:
        t.add_row("Traffic", Text(", ".join(f"{n} {w}%" for n, w in doc["traffic"].items()) or "-"))
    if doc.get("request"):
        t.add_row("Would send", Text(describe_patch(doc["app"], doc["request"]["body"])))
    return t


def describe_patch(app: str, body: dict[str, Any]) -> str:
    """The rollout's PATCH in one line (the JSON output has the whole body)."""
    props = body.get("properties") or {}
    tmpl = props.get("template") or {}
    parts = [f"revisionSuffix={tmpl.get('revisionSuffix')}"] if tmpl.get("revisionSuffix") else []
    parts += [f"containers[{c.get('name')}].image={c.get('image')}" for c in tmpl.get("containers") or []]
    traffic = ((props.get("configuration") or {}).get("ingress") or {}).get("traffic")
    if traffic is not None:
        parts.append("traffic pinned to " + ", ".join(f"{t['revisionName']} {t['weight']}%" for t in traffic))
    return f"PATCH container app {app}: " + "; ".join(parts)


# -- deploy status / history --------------------------------------------------------------------------------
def render_revisions(doc: dict[str, Any]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"{doc['app']} ({doc['mode']} revision mode, min {doc['min_replicas']} replicas)",
              title_justify="left", title_style="bold", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("Revision", "Traffic", "Image", "Created (UTC)", "Running", "Health", "State"):
        t.add_column(col, no_wrap=col != "Image", overflow="fold")
    for r in doc["revisions"]:
        good = r["healthy"] or not r["active"]
        t.add_row(
            Text(r["name"]),
            f"{r['traffic']}%",
            Text(r["image"] or "-"),
            (r["created"] or "-")[5:19].replace("T", " "),
            str(r["replicas_running"]) if r["active"] else "-",
            Text(r["health"] or "-", style="" if good else "red") if r["active"] else Text("inactive", style="dim"),
            Text(r["provisioning"] or "-", style="red" if (r["provisioning"] or "") == "Failed" else ""),
        )
    return t


# -- deploy infra -------------------------------------------------------------------------------------------
def _show(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, dict):
        return f"{len(v)} settings"
    return str(v)


def print_diff(changes: list[Change]) -> None:
    from loomctl.output import ui

    for ch in changes:
        if ch.action == "create":
            ui.info(f"+ {ch.kind} {ch.name}: create")
        else:
            ui.info(f"~ {ch.kind} {ch.name}: {ch.field}: {_show(ch.before)} -> {_show(ch.after)}")


def render_diff(doc: dict[str, Any]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if not doc.get("changes"):
        return Text(f"No changes: the deployment matches {doc.get('spec')}.", style="green")
    t = Table(title=f"Changes ({doc.get('result')}) from {doc.get('spec')}", title_justify="left",
              title_style="bold", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("Resource", "Action", "Field", "Live", "Spec"):
        t.add_column(col, overflow="fold")
    for ch in doc["changes"]:
        t.add_row(*(Text(x) for x in (ch["resource"], ch["action"], ch["field"], _show(ch["before"]),
                                      _show(ch["after"]))))
    return t
