"""loomctl: operations and troubleshooting CLI for LoomDB on Azure Container Apps."""

__version__ = "0.1.0"
