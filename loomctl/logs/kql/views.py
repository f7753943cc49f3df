"""Table views that make one query body work for both Container Apps log destinations and both metric tables.

A canned query's body reads `ConsoleLogs`, `SystemLogs` or `Metrics`; the prelude defines each view it uses as
a `let` over the real table of the chosen destination, with the same column names either way:

- ConsoleLogs: TimeGenerated, App, Revision, Replica, Container, Stream, Log
- SystemLogs:  TimeGenerated, App, Revision, Replica, Reason, Level, Log
- Metrics:     TimeGenerated, Name, App, Replica, Value, Count, MinValue, MaxValue

`ContainerAppConsoleLogs_CL` has no `ReplicaName_s` (the replica is `ContainerGroupName_g`, in some workspaces
`ContainerGroupName_s`): the view reads whichever exists with `column_ifexists`.
"""

from __future__ import annotations

LOG_ANALYTICS = "log-analytics"
AZURE_MONITOR = "azure-monitor"
DESTINATIONS = (LOG_ANALYTICS, AZURE_MONITOR)

APP_METRICS = "AppMetrics"
CUSTOM_METRICS = "customMetrics"
METRIC_SOURCES = (APP_METRICS, CUSTOM_METRICS)

# Tables each destination reads (used by the offline schema test and in hints).
TABLES = {
    LOG_ANALYTICS: ("ContainerAppConsoleLogs_CL", "ContainerAppSystemLogs_CL"),
    AZURE_MONITOR: ("ContainerAppConsoleLogs", "ContainerAppSystemLogs"),
}

_FILTER = ("| where (array_length(_apps) == 0 or App in (_apps))"
           " and (isempty(_replica) or Replica == _replica)"
           " and (isempty(_revision) or Revision == _revision)")

_CONSOLE = {
    LOG_ANALYTICS: (
        "ContainerAppConsoleLogs_CL\n"
        "| where TimeGenerated between (_start .. _end)\n"
        "| extend App = ContainerAppName_s, Revision = RevisionName_s,"
        ' Replica = coalesce(column_ifexists("ContainerGroupName_g", ""), column_ifexists("ContainerGroupName_s", "")),'
        ' Container = ContainerName_s, Stream = column_ifexists("Stream_s", ""), Log = Log_s\n'
    ),
    AZURE_MONITOR: (
        "ContainerAppConsoleLogs\n"
        "| where TimeGenerated between (_start .. _end)\n"
        "| extend App = ContainerAppName, Revision = RevisionName, Replica = ContainerGroupName,"
        " Container = ContainerName, Stream = Stream, Log = Log\n"
    ),
}

_SYSTEM = {
    LOG_ANALYTICS: (
        "ContainerAppSystemLogs_CL\n"
        "| where TimeGenerated between (_start .. _end)\n"
        '| extend App = ContainerAppName_s, Revision = RevisionName_s, Replica = column_ifexists("ReplicaName_s", ""),'
        ' Reason = column_ifexists("Reason_s", ""), Level = column_ifexists("Type_s", ""), Log = Log_s\n'
    ),
    AZURE_MONITOR: (
        "ContainerAppSystemLogs\n"
        "| where TimeGenerated between (_start .. _end)\n"
        "| extend App = ContainerAppName, Revision = RevisionName, Replica = ReplicaName,"
        ' Reason = Reason, Level = column_ifexists("Level", ""), Log = Log\n'
    ),
}

_METRICS = {
    APP_METRICS: (
        "AppMetrics\n"
        "| where TimeGenerated between (_start .. _end)\n"
        "| extend App = AppRoleName, Replica = AppRoleInstance, Revision = \"\","
        " Value = iff(ItemCount > 0, Sum / ItemCount, real(null)), Count = ItemCount, MinValue = Min, MaxValue = Max\n"
    ),
    CUSTOM_METRICS: (
        "customMetrics\n"
        "| where timestamp between (_start .. _end)\n"
        "| extend TimeGenerated = timestamp, Name = name, App = cloud_RoleName, Replica = cloud_RoleInstance,"
        " Revision = \"\", Value = iff(valueCount > 0, valueSum / valueCount, value), Count = valueCount,"
        " MinValue = valueMin, MaxValue = valueMax\n"
    ),
}

_PROJECT = {
    "ConsoleLogs": "| project TimeGenerated, App, Revision, Replica, Container, Stream, Log",
    "SystemLogs": "| project TimeGenerated, App, Revision, Replica, Reason, Level, Log",
    "Metrics": "| project TimeGenerated, Name, App, Replica, Value, Count, MinValue, MaxValue",
}

VIEW_NAMES = tuple(_PROJECT)


def view(name: str, destination: str, metrics_source: str = APP_METRICS) -> str:
    """The `let NAME = ...;` statement of a view for a destination (or metrics source)."""
    if name == "ConsoleLogs":
        src = _CONSOLE[destination]
    elif name == "SystemLogs":
        src = _SYSTEM[destination]
    elif name == "Metrics":
        src = _METRICS[metrics_source]
    else:  # pragma: no cover - programming error
        raise KeyError(name)
    return f"let {name} = {src}{_FILTER}\n{_PROJECT[name]};"
