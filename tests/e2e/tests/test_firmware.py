"""Firmware updates (L01) and campaigns end to end: stations that download the image from the
CSMS with httpx, check it, report their progress and boot with the new version."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from contextlib import AsyncExitStack
from typing import Any

import httpx
import websockets
from csms_e2e.station import Station, eventually, metric, wait_online
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

DEFAULT_BASE = "http://127.0.0.1:8101"
"""FIRMWARE_PUBLIC_BASE_URL's default: the fleet runs the service on a free port instead."""
IMAGE = bytes(range(256)) * 2000 + b"firmware 2.0"


class FirmwareStation(Station):
    """Answers UpdateFirmware Accepted, then downloads, checks and installs the image
    (``outcome``: Installed, InvalidSignature or InstallationFailed) and boots with the new
    firmwareVersion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.firmware_version = "1.0"
        self.outcome = "Installed"
        self.new_version = "2.0"
        self.base = DEFAULT_BASE
        self.sha256 = hashlib.sha256(IMAGE).hexdigest()
        self.downloaded: bytes | None = None

    async def boot(self, reason: str = "PowerUp") -> Any:
        return await self.call(
            call.BootNotification(
                charging_station={
                    "model": "FW-1",
                    "vendor_name": "Acme",
                    "firmware_version": self.firmware_version,
                },
                reason=reason,
            )
        )

    @on(Action.update_firmware)
    async def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **kwargs: Any
    ) -> call_result.UpdateFirmware:
        status = self._answer("UpdateFirmware", {"request_id": request_id, "firmware": firmware})
        if status == "Accepted":
            self._later(self.install(request_id, firmware["location"]))
        return call_result.UpdateFirmware(status=status)

    async def notify(self, request_id: int, status: str) -> None:
        await self.call(call.FirmwareStatusNotification(status=status, request_id=request_id))

    async def install(self, request_id: int, location: str) -> None:
        await asyncio.sleep(0.2)
        await self.notify(request_id, "Downloading")
        url = location.replace(DEFAULT_BASE, self.base)
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.get(url)
        if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != self.sha256:
            await self.notify(request_id, "DownloadFailed")
            return
        self.downloaded = r.content
        await self.notify(request_id, "Downloaded")
        if self.outcome == "InvalidSignature":
            await self.notify(request_id, "InvalidSignature")
            return
        await self.notify(request_id, "Installing")
        if self.outcome != "Installed":
            await self.notify(request_id, self.outcome)
            return
        await self.notify(request_id, "Installed")
        self.firmware_version = self.new_version
        await self.boot("FirmwareUpdate")


async def start(stack: AsyncExitStack, fleet: Any, http: Any, sid: str) -> FirmwareStation:
    ws = await stack.enter_async_context(
        websockets.connect(fleet.station_url(sid), subprotocols=["ocpp2.0.1"], open_timeout=10)
    )
    cp = FirmwareStation(sid, ws, response_timeout=30)
    cp.base = fleet.api("configuration")
    task = asyncio.create_task(cp.start())
    stack.callback(task.cancel)
    assert (await cp.boot()).status == "Accepted"
    await wait_online(http, fleet, sid)
    return cp


async def upload(fleet: Any, http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.post(
        f"{fleet.api('configuration')}/data/configuration/firmware/images",
        content=IMAGE,
        params={
            "size": len(IMAGE),
            "sha256": hashlib.sha256(IMAGE).hexdigest(),
            "filename": "fw-2.0.bin",
        },
        headers={"content-type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def update_of(fleet, http, sid: str, rid: int) -> dict[str, Any]:
    r = await http.get(
        f"{fleet.api('configuration')}/data/configuration/firmware/updates/{sid}/{rid}"
    )
    return r.json()


async def test_update_ends_installed_and_verified(fleet, http):
    api = fleet.api("configuration")
    image = await upload(fleet, http)
    sid = f"E2E-FW-{uuid.uuid4().hex[:6]}"
    async with AsyncExitStack() as stack:
        cp = await start(stack, fleet, http, sid)
        r = await http.post(
            f"{api}/data/configuration/firmware/updates",
            json={"stationId": sid, "imageId": image["id"], "version": "2.0"},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["call"]["status"] == "answered" and body["answer"] == "Accepted"
        rid = body["requestId"]

        async def done() -> dict[str, Any] | None:
            u = await update_of(fleet, http, sid, rid)
            return u if u["verification"] else None

        u = await eventually(done, timeout=20, what="the update verified")
        assert cp.downloaded == IMAGE
        assert u["status"] == "Installed" and u["verification"] == "verified"
        assert [h["status"] for h in u["history"]] == [
            "Downloading",
            "Downloaded",
            "Installing",
            "Installed",
        ]
        station = (await http.get(f"{api}/data/configuration/stations/{sid}")).json()
        assert station["firmwareVersion"] == "2.0"
        # a resumed download: the rest of the image from an offset
        part = await http.get(
            image["location"].replace(DEFAULT_BASE, api), headers={"Range": "bytes=1000-"}
        )
        assert part.status_code == 206 and part.content == IMAGE[1000:]


async def test_invalid_signature(fleet, http):
    api = fleet.api("configuration")
    image = await upload(fleet, http)
    sid = f"E2E-FW-{uuid.uuid4().hex[:6]}"
    before = metric(
        fleet.metrics("configuration"), "csms_firmware_failures_total", status="InvalidSignature"
    )
    async with AsyncExitStack() as stack:
        cp = await start(stack, fleet, http, sid)
        cp.outcome = "InvalidSignature"
        r = await http.post(
            f"{api}/data/configuration/firmware/updates",
            json={
                "stationId": sid,
                "imageId": image["id"],
                "version": "2.0",
                "signingCertificate": "-----BEGIN CERTIFICATE-----x",
                "signature": "c2ln",
            },
        )
        rid = r.json()["requestId"]

        async def failed() -> dict[str, Any] | None:
            u = await update_of(fleet, http, sid, rid)
            return u if u["final"] else None

        u = await eventually(failed, timeout=20, what="the update failed")
        assert u["status"] == "InvalidSignature" and u["hasSignature"]
        assert u["verification"] is None
    after = metric(
        fleet.metrics("configuration"), "csms_firmware_failures_total", status="InvalidSignature"
    )
    assert after == before + 1


async def test_campaign_in_waves_pauses_at_two_failures(fleet, http):
    api = fleet.api("configuration")
    image = await upload(fleet, http)
    run = uuid.uuid4().hex[:5]
    ids = [f"E2E-CMP-{run}-{i}" for i in range(10)]
    async with AsyncExitStack() as stack:
        stations = [await start(stack, fleet, http, sid) for sid in ids]
        stations[3].outcome = "InstallationFailed"
        stations[4].outcome = "InstallationFailed"
        r = await http.post(
            f"{api}/data/configuration/firmware/campaigns",
            json={
                "imageId": image["id"],
                "version": "2.0",
                "stations": ids,
                "waveSize": 3,
                "failureThreshold": 2,
            },
        )
        assert r.status_code == 201, r.text
        cid = r.json()["id"]

        async def paused() -> dict[str, Any] | None:
            c = (await http.get(f"{api}/data/configuration/firmware/campaigns/{cid}")).json()
            return c if c["status"] == "paused" else None

        c = await eventually(paused, timeout=60, what="the campaign paused")
        outcomes = [s["outcome"] for s in c["stations"]]
        assert outcomes[:3] == ["succeeded"] * 3
        assert outcomes[3:5] == ["failed", "failed"]
        assert outcomes[6:] == [None] * 4
        assert all(not cp.calls_of("UpdateFirmware") for cp in stations[6:])
        # never more than one wave at once: the second wave came after the first ended
        assert all(len(cp.calls_of("UpdateFirmware")) == 1 for cp in stations[:6])
        assert [cp.firmware_version for cp in stations[:3]] == ["2.0"] * 3
