"""Azure clouds and their endpoints (no Azure SDK import here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    logs_endpoint: str
    authority_host: str
    arm_scope: str

    @property
    def is_public(self) -> bool:
        return self.name in CLOUDS


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud("AzureCloud", "https://management.azure.com", "https://api.loganalytics.io",
                        "https://login.microsoftonline.com", "https://management.azure.com/.default"),
    "AzureUSGovernment": Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net",
                               "https://api.loganalytics.us", "https://login.microsoftonline.us",
                               "https://management.usgovcloudapi.net/.default"),
    "AzureChinaCloud": Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn",
                             "https://api.loganalytics.azure.cn", "https://login.chinacloudapi.cn",
                             "https://management.chinacloudapi.cn/.default"),
}

PUBLIC_AUTHORITIES = {c.authority_host.rstrip("/").lower() for c in CLOUDS.values()}


def is_public_authority(host: str) -> bool:
    host = host.rstrip("/").lower()
    if not host.startswith("https://"):
        host = "https://" + host
    return host in PUBLIC_AUTHORITIES
