"""The OCPP 1.6 handlers over a real PostgreSQL, each in its own unit of work (``handle``):
a 1.6 boot is the same station row as a 2.0.1 one; 1.6 firmware updates (sent through the
data API and campaigns, or through the message API) are tracked with their statuses; the
signed ones by requestId; a 1.6 DataTransfer is stored like a 2.0.1 one."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from configuration import app as service_app
from configuration import store
from configuration.events import on_connection_message
from configuration.firmware import api, tasks
from configuration.handlers.boot_notification import boot_notification as boot_201
from configuration.handlers16.boot_notification import boot_notification
from configuration.handlers16.data_transfer import data_transfer
from configuration.handlers16.firmware_status_notification import firmware_status_notification
from configuration.handlers16.signed_firmware_status_notification import (
    signed_firmware_status_notification,
)
from configuration.handlers16.signed_update_firmware import signed_update_firmware_answered
from configuration.handlers16.update_firmware import update_firmware_answered
from configuration.settings import Settings
from csms_devstack.testing import handle, migrated_database
from csms_runtime import db
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import ConnectionEvent
from fastapi import FastAPI
from ocpp_schema import v16, v201

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
BASE = "/data/configuration/firmware"
CERT, SIG = "-----BEGIN CERTIFICATE-----", "c2lnbmF0dXJl"


class ScriptedCalls:
    """The call client: records (station ids, action, payload, protocol); answers Accepted."""

    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str, dict, str]] = []

    async def call_many(self, station_ids, action, payload, *, protocol="2.0.1", **kw):
        self.sent.append((list(station_ids), action, payload, protocol))
        response = {} if (protocol, action) == ("1.6", "UpdateFirmware") else {"status": "Accepted"}
        return [CallOutcome(sid, CallStatus.ANSWERED, "c", response) for sid in station_ids]


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_cfg16") as url:
        yield url


@pytest.fixture
async def env(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    app = FastAPI()
    app.include_router(api.router)
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.calls = ScriptedCalls()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, app, engine
    await engine.dispose()


def sid(prefix: str = "S16") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def connect(engine, station_id: str, protocol: str) -> None:
    ev = ConnectionEvent(
        station_id, "connected", "g1", f"c-{station_id}", at=T0.timestamp(), protocol=protocol
    )
    await handle(engine, service_app.ports, on_connection_message, ev, station_id, clock=CLOCK)


async def run(engine, handler, request, station_id, **kw):
    return await handle(engine, service_app.ports, handler, request, station_id, clock=CLOCK, **kw)


async def test_a_16_boot_gives_the_same_station_row_as_a_2_0_1_boot(env):
    _, app, engine = env
    a, b = sid("B16"), sid("B201")
    await connect(engine, a, "ocpp1.6")
    await connect(engine, b, "ocpp2.0.1")
    async with app.state.sessionmaker() as session:
        for s in (a, b):
            await store.commission(session, s, {"heartbeat_interval": 45}, T0)
    req16 = v16.BootNotificationRequest.model_validate(
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "AC-22",
            "chargeBoxSerialNumber": "SN-7",
            "firmwareVersion": "1.0",
            "iccid": "89440",
            "meterType": "DZG",
        }
    )
    done = await run(engine, boot_notification, req16, a, settings=Settings())
    req201 = v201.BootNotificationRequest.model_validate(
        {
            "reason": "Unknown",
            "chargingStation": {
                "vendorName": "Acme",
                "model": "AC-22",
                "serialNumber": "SN-7",
                "firmwareVersion": "1.0",
            },
        }
    )
    await run(engine, boot_201, req201, b, settings=Settings())
    assert done.response.model_dump(by_alias=True, mode="json") == {
        "status": "Accepted",
        "currentTime": "2026-11-30T10:00:00Z",
        "interval": 45,
    }
    async with app.state.sessionmaker() as session:
        rows = [(await store.get_station(session, s)).model_dump() for s in (a, b)]
    assert rows[0].pop("protocol") == "ocpp1.6" and rows[1].pop("protocol") == "ocpp2.0.1"
    for r in rows:
        for k in ("id", "connection_id", "created_at", "updated_at"):
            r.pop(k, None)
    assert rows[0] == rows[1]
    assert (rows[0]["vendor_name"], rows[0]["serial_number"], rows[0]["last_boot_reason"]) == (
        "Acme",
        "SN-7",
        "Unknown",
    )


def update16(location: str) -> v16.UpdateFirmwareRequest:
    return v16.UpdateFirmwareRequest.model_validate(
        {"location": location, "retrieveDate": "2026-11-30T10:00:00Z"}
    )


async def status16(engine, station_id: str, *statuses: str) -> None:
    for s in statuses:
        req = v16.FirmwareStatusNotificationRequest(status=s)
        await run(engine, firmware_status_notification, req, station_id)


async def test_a_16_update_from_the_data_api_is_tracked_to_verification(env):
    c, app, engine = env
    s = sid()
    await connect(engine, s, "ocpp1.6")
    r = await c.post(
        f"{BASE}/updates",
        json={"stationId": s, "location": "http://x/a.bin", "version": "2.0", "retries": 2},
    )
    assert r.status_code == 200, r.text
    rid = r.json()["requestId"]
    [(ids, action, payload, protocol)] = app.state.calls.sent
    assert (ids, action, protocol) == ([s], "UpdateFirmware", "1.6")
    assert set(payload) == {"location", "retrieveDate", "retries"}
    v16.UpdateFirmwareRequest.model_validate(payload)
    # the answer (redelivered once), the statuses (one repeated), the boot with the new version
    for _ in range(2):
        await run(
            engine,
            update_firmware_answered,
            v16.UpdateFirmwareRequest.model_validate(payload),
            s,
            answer=v16.UpdateFirmwareResponse(),
            call_id="call-a",
        )
    await status16(engine, s, "Downloading", "Downloaded", "Idle", "Installing", "Installed")
    await status16(engine, s, "Installed")
    boot = v16.BootNotificationRequest.model_validate(
        {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "2.0"}
    )
    await run(engine, boot_notification, boot, s, settings=Settings())
    [u] = (await c.get(f"{BASE}/updates", params={"stationId": s})).json()
    assert u["requestId"] == rid
    assert (u["protocol"], u["action"], u["answer"], u["status"], u["final"]) == (
        "1.6",
        "UpdateFirmware",
        "Accepted",
        "Installed",
        True,
    )
    assert [h["status"] for h in u["history"]] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert (u["verification"], u["reportedVersion"], u["unknownRequest"]) == (
        "verified",
        "2.0",
        False,
    )


async def test_a_16_update_from_the_message_api_gets_a_request_id(env):
    c, _, engine = env
    s = sid()
    for _ in range(2):  # redelivered: still one update
        await run(
            engine,
            update_firmware_answered,
            update16("ftp://x/b.bin"),
            s,
            answer=v16.UpdateFirmwareResponse(),
            call_id=f"call-{s}",
        )
    await status16(engine, s, "Downloading", "DownloadFailed")
    [u] = (await c.get(f"{BASE}/updates", params={"stationId": s})).json()
    assert u["requestId"] > 0 and u["location"] == "ftp://x/b.bin"
    assert (u["status"], u["final"], u["answer"]) == ("DownloadFailed", True, "Accepted")
    # a status when nothing is open: flagged, and the next ones go to the same row
    await status16(engine, s, "Downloading", "Downloaded")
    rows = (await c.get(f"{BASE}/updates", params={"stationId": s, "unknown": True})).json()
    assert [(r["status"], r["protocol"]) for r in rows] == [("Downloaded", "1.6")]


async def test_a_signed_16_update_is_tracked_by_request_id(env):
    c, app, engine = env
    s = sid()
    await connect(engine, s, "ocpp1.6")
    r = await c.post(
        f"{BASE}/updates",
        json={
            "stationId": s,
            "location": "https://x/s.bin",
            "signingCertificate": CERT,
            "signature": SIG,
            "installDateTime": "2026-12-01T02:00:00Z",
        },
    )
    assert r.status_code == 200, r.text
    rid = r.json()["requestId"]
    [(_, action, payload, protocol)] = app.state.calls.sent
    assert (action, protocol, payload["requestId"]) == ("SignedUpdateFirmware", "1.6", rid)
    req = v16.SignedUpdateFirmwareRequest.model_validate(payload)
    await run(
        engine,
        signed_update_firmware_answered,
        req,
        s,
        answer=v16.SignedUpdateFirmwareResponse(status="Accepted"),
    )
    for st in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"):
        await run(
            engine,
            signed_firmware_status_notification,
            v16.SignedFirmwareStatusNotificationRequest(status=st, request_id=rid),
            s,
        )
    u = (await c.get(f"{BASE}/updates/{s}/{rid}")).json()
    assert (u["protocol"], u["action"], u["status"], u["final"]) == (
        "1.6",
        "SignedUpdateFirmware",
        "Installed",
        True,
    )
    assert u["hasSignature"] and u["hasSigningCertificate"] and len(u["history"]) == 5


async def test_an_update_with_no_1_6_form_is_refused_for_a_16_station(env):
    c, app, engine = env
    s = sid()
    await connect(engine, s, "ocpp1.6")
    r = await c.post(
        f"{BASE}/updates",
        json={"stationId": s, "location": "http://x/a.bin", "installDateTime": T0.isoformat()},
    )
    assert r.status_code == 422 and "installDateTime" in r.text
    assert app.state.calls.sent == []
    assert (await c.get(f"{BASE}/updates", params={"stationId": s})).json() == []


async def test_a_campaign_sends_each_station_its_protocol(env):
    c, app, engine = env
    a, b = sid("C201"), sid("C16")
    await connect(engine, a, "ocpp2.0.1")
    await connect(engine, b, "ocpp1.6")
    r = await c.post(
        f"{BASE}/campaigns",
        json={"location": "http://x/c.bin", "version": "3.0", "stations": [a, b], "waveSize": 2},
    )
    assert r.status_code == 201, r.text
    async with engine.begin() as conn:  # only this campaign runs
        await conn.execute(
            sa.text(f"update {tasks.CAMPAIGNS} set status = 'done' where id <> :id"),
            {"id": r.json()["id"]},
        )
    await tasks.campaigns_once(app.state.sessionmaker, app.state.calls)
    sent = {(tuple(ids), action, protocol) for ids, action, _, protocol in app.state.calls.sent}
    assert sent == {((a,), "UpdateFirmware", "2.0.1"), ((b,), "UpdateFirmware", "1.6")}
    rows = {u["stationId"]: u for u in (await c.get(f"{BASE}/updates")).json()}
    assert rows[a]["requestId"] == rows[b]["requestId"]
    assert (rows[a]["protocol"], rows[b]["protocol"]) == ("2.0.1", "1.6")
    # the 1.6 station's answer finds the row the campaign recorded
    payload16 = next(p for ids, _, p, proto in app.state.calls.sent if proto == "1.6")
    await run(
        engine,
        update_firmware_answered,
        v16.UpdateFirmwareRequest.model_validate(payload16),
        b,
        answer=v16.UpdateFirmwareResponse(),
        call_id=f"camp-{b}",
    )
    await status16(engine, b, "Downloading", "Installed")
    u = (await c.get(f"{BASE}/updates/{b}/{rows[b]['requestId']}")).json()
    assert (u["answer"], u["status"], u["campaignId"]) == ("Accepted", "Installed", r.json()["id"])


async def test_a_16_data_transfer_is_stored_and_published(env):
    _, app, engine = env
    s = sid()
    req = v16.DataTransferRequest.model_validate(
        {"vendorId": "csms.echo", "messageId": "m", "data": "hello"}
    )
    done = await run(engine, data_transfer, req, s)
    assert done.response.model_dump(by_alias=True, exclude_none=True) == {
        "status": "Accepted",
        "data": "hello",
    }
    assert [e.topic for e in done.events] == ["csms.events.datatransfer"]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "select vendor_id, message_id, data, status, response_data"
                    " from configuration.data_transfers where station_id = :s"
                ),
                {"s": s},
            )
        ).one()
    assert tuple(row) == ("csms.echo", "m", "hello", "Accepted", "hello")
