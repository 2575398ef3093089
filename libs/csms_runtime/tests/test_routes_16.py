"""route()/answered() with protocol="1.6" take the generated OCPP 1.6 models."""

import pytest
from csms_runtime.handlers import RouteTable, answered, route
from ocpp_schema import v16, v201


async def boot(req, *, station):
    raise AssertionError


async def on_remote_start(req, resp, *, station):
    return None


def test_route_16_picks_v16_models():
    r = route("BootNotification", boot, protocol="1.6")
    assert r.protocol == "1.6" and r.ports == ("station",)
    assert r.request is v16.BootNotificationRequest
    assert r.response is v16.BootNotificationResponse
    assert r.request is not v201.BootNotificationRequest
    assert route("BootNotification", boot).request is v201.BootNotificationRequest


def test_route_16_only_actions():
    r = route("StartTransaction", boot, protocol="1.6")
    assert r.request is v16.StartTransactionRequest
    with pytest.raises(KeyError):
        route("StartTransaction", boot)  # no such 2.0.1 action
    with pytest.raises(KeyError):
        route("TransactionEvent", boot, protocol="1.6")  # no such 1.6 action
    with pytest.raises(ValueError):
        route("Heartbeat", boot, protocol="2.1")


def test_answered_16_and_table():
    a = answered("RemoteStartTransaction", on_remote_start, protocol="1.6")
    assert a.request is v16.RemoteStartTransactionRequest
    assert a.response is v16.RemoteStartTransactionResponse
    table = RouteTable([a, route("Heartbeat", boot, protocol="1.6"), route("Heartbeat", boot)])
    assert table.answer("RemoteStartTransaction", "1.6") is a
    assert table.answer("RemoteStartTransaction") is None
    assert table.get("Heartbeat", "1.6").request is v16.HeartbeatRequest
    assert table.get("Heartbeat").request is v201.HeartbeatRequest
