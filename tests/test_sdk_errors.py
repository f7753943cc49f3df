"""azure.errors.sdk_errors: SDK exceptions become LoomErrors at azure/'s boundary; others pass through."""

import pytest

from loomctl.azure.errors import OperationFailed, as_loom_error, sdk_errors
from loomctl.core.errors import AzureError, NetworkError
from loomctl.core.errors import as_loom_error as core_as_loom_error


class _Request:
    method = "GET"
    url = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/web"


class _Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = "reason"
        self.request = _Request()
        self.headers = {}

    def text(self):
        return ""


def _http_error(status, message="the operation failed"):
    from azure.core.exceptions import HttpResponseError

    return HttpResponseError(message=message, response=_Response(status))


def test_an_error_answer_becomes_azure_error_with_status():
    with pytest.raises(AzureError) as info:
        with sdk_errors():
            raise _http_error(404)
    assert info.value.status == 404 and info.value.message == "container app 'web' not found"


def test_a_failed_operation_keeps_the_operations_message():
    with pytest.raises(OperationFailed) as info:
        with sdk_errors():
            raise _http_error(200, "Operation failed: image not found")
    assert info.value.failure == "Operation failed: image not found"


def test_other_exceptions_pass_through():
    with pytest.raises(KeyError):
        with sdk_errors():
            raise KeyError("x")


def test_core_maps_network_errors_and_leaves_sdk_errors_to_azure():
    assert isinstance(core_as_loom_error(ConnectionRefusedError("refused")), NetworkError)
    assert core_as_loom_error(_http_error(404)).message.startswith("unexpected error: HttpResponseError")
    assert as_loom_error(_http_error(404)).message == "container app 'web' not found"
