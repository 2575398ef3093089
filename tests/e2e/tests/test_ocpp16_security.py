"""The 1.6 security whitepaper's messages and 1.6 diagnostics, end to end with the ``ocpp``
library's v16 ChargePoint: a SecurityEventNotification stored and on the reporting data API
beside 2.0.1 events; SignCertificate answered and followed by a 1.6 CertificateSigned whose
chain parses and chains to the CSMS CA; InstallCertificate / GetInstalledCertificateIds /
DeleteCertificate through /ocpp/1.6/certificates and the inventory they leave; GetLog with a
requestId the CSMS allocates, then LogStatusNotifications; GetDiagnostics (no requestId)
then DiagnosticsStatusNotifications, as the log history on the data API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certificates.ca import hash_data
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from csms_devstack.stack import STATE
from csms_e2e.station import eventually
from csms_e2e.station16 import connect16, now_iso
from csms_runtime import pki
from ocpp.v16 import call


async def speaks_16(http, fleet, sid: str) -> None:
    async def online() -> bool:
        r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{sid}")
        row = r.json() if r.status_code == 200 else None
        return bool(row and row["online"] and row["protocol"] == "ocpp1.6")

    await eventually(online, what=f"{sid} online with ocpp1.6")


async def send16(http, fleet, block: str, action: str, sid: str, body: dict[str, Any]) -> Any:
    r = await http.post(
        f"{fleet.api(block)}/ocpp/1.6/{block}/{action}", params={"identifier": sid}, json=body
    )
    assert r.status_code == 200, r.text
    return r.json()


def csms_ca(fleet) -> x509.Certificate:
    env = fleet.procs["certificates"].env
    path = Path(env.get("CERTIFICATES_CA_CERT_FILE") or STATE / "pki" / "ca.pem")
    return x509.load_pem_x509_certificate(path.read_bytes())


async def test_security_event_16_on_the_data_api(fleet, http):
    sid = "CS16-SEC-EVENT"
    api = f"{fleet.api('reporting')}/data/reporting/security-events"
    async with connect16(fleet.station_url(sid), sid) as cp:
        assert (await cp.boot()).status == "Accepted"
        at = now_iso()
        await cp.call(
            call.SecurityEventNotification(
                type="TamperDetectionActivated", timestamp=at, tech_info="lid open"
            )
        )
        await cp.call(
            call.SecurityEventNotification(  # the library wants techInfo; None is not sent
                type="InvalidCentralSystemCertificate", timestamp=at, tech_info=None
            )
        )

        async def stored() -> list[dict[str, Any]] | None:
            items = (await http.get(api, params={"stationId": sid})).json()["items"]
            return items if len(items) == 2 else None

        items = await eventually(stored, what="two security events")
    assert sorted((i["type"], i["techInfo"], i["critical"]) for i in items) == [
        ("InvalidCsmsCertificate", None, True),  # the whitepaper's name, as 2.0.1 names it
        ("TamperDetectionActivated", "lid open", True),
    ]


async def test_sign_certificate_16_then_certificate_signed_in_1_6(fleet, http):
    sid = "CS16-SEC-SIGN"
    api = f"{fleet.api('certificates')}/data/certificates"
    key = pki.new_key()
    async with connect16(fleet.station_url(sid), sid) as cp:
        assert (await cp.boot()).status == "Accepted"
        await speaks_16(http, fleet, sid)
        result = await cp.call(call.SignCertificate(csr=pki.make_csr(key, sid, "CSMS")))
        assert result.status == "Accepted"

        async def signed() -> list[dict[str, Any]]:
            return cp.calls_of("CertificateSigned")

        [sent] = await eventually(signed, what="CertificateSigned (1.6)")
        assert set(sent) == {"certificate_chain"}  # 1.6: no certificateType
        cert = x509.load_pem_x509_certificate(sent["certificate_chain"].encode())
        ca = csms_ca(fleet)
        assert cert.issuer == ca.subject and cert.public_key() == key.public_key()
        ca.public_key().verify(  # type: ignore[call-arg]
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
        serial = pki.serial_hex(cert)

        async def installed() -> dict[str, Any] | None:
            r = await http.get(f"{api}/certificates/{serial}")
            body = r.json() if r.status_code == 200 else None
            return body if body and body["status"] == "installed" else None

        row = await eventually(installed, what="the 1.6 answer kept")
        assert (row["stationId"], row["certificateType"]) == (sid, "ChargingStationCertificate")

        other = await cp.call(
            call.SignCertificate(csr=pki.make_csr(pki.new_key(), "NOT-ME", "CSMS"))
        )
        assert other.status == "Rejected"
        assert len(cp.calls_of("CertificateSigned")) == 1


async def test_installed_certificates_16_through_the_message_api(fleet, http):
    sid = "CS16-SEC-INV"
    root = pki.make_ca("E2E Central System Root")
    h = hash_data(root.cert)
    api = f"{fleet.api('certificates')}/data/certificates/stations/{sid}/installed"
    async with connect16(fleet.station_url(sid), sid) as cp:
        assert (await cp.boot()).status == "Accepted"
        await speaks_16(http, fleet, sid)
        out = await send16(
            http,
            fleet,
            "certificates",
            "installCertificate",
            sid,
            {
                "certificateType": "CentralSystemRootCertificate",
                "certificate": pki.cert_pem(root.cert),
            },
        )
        assert out["results"][0]["response"] == {"status": "Accepted"}
        rows = (await http.get(api)).json()
        assert [(r["certificateType"], r["serialNumber"]) for r in rows] == [
            ("CSMSRootCertificate", h.serial_number)
        ]

        other = pki.make_ca("E2E Manufacturer Root")
        h2 = hash_data(other.cert)
        snake = {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": h2.issuer_name_hash,
            "issuer_key_hash": h2.issuer_key_hash,
            "serial_number": h2.serial_number,
        }
        cp.answers["GetInstalledCertificateIds"] = {
            "status": "Accepted",
            "certificate_hash_data": [snake],
        }
        out = await send16(
            http,
            fleet,
            "certificates",
            "getInstalledCertificateIds",
            sid,
            {"certificateType": "ManufacturerRootCertificate"},
        )
        assert out["results"][0]["status"] == "answered"
        assert (
            out["results"][0]["response"]["certificateHashData"][0]["serialNumber"]
            == h2.serial_number
        )
        assert cp.calls_of("GetInstalledCertificateIds") == [
            {"certificate_type": "ManufacturerRootCertificate"}
        ]
        rows = (await http.get(api)).json()
        assert sorted((r["certificateType"], r["serialNumber"]) for r in rows) == sorted(
            [
                ("CSMSRootCertificate", h.serial_number),
                ("ManufacturerRootCertificate", h2.serial_number),
            ]
        )

        out = await send16(
            http,
            fleet,
            "certificates",
            "deleteCertificate",
            sid,
            {"certificateHashData": h.as_json()},
        )
        assert out["results"][0]["response"] == {"status": "Accepted"}
        rows = (await http.get(api)).json()
        assert [(r["certificateType"], r["serialNumber"]) for r in rows] == [
            ("ManufacturerRootCertificate", h2.serial_number)
        ]


async def log_detail(http, fleet, sid: str, request_id: int) -> dict[str, Any]:
    r = await http.get(f"{fleet.api('reporting')}/data/reporting/stations/{sid}/logs/{request_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_get_log_16_then_log_status_notifications(fleet, http):
    sid = "CS16-SEC-LOG"
    async with connect16(fleet.station_url(sid), sid) as cp:
        assert (await cp.boot()).status == "Accepted"
        await speaks_16(http, fleet, sid)
        out = await send16(
            http,
            fleet,
            "reporting",
            "getLog",
            sid,
            {
                "logType": "SecurityLog",
                "log": {"remoteLocation": "https://logs.example/16"},
                "retries": 2,
            },
        )
        rid = out["requestId"]
        assert isinstance(rid, int)
        assert out["results"][0]["response"] == {"status": "Accepted", "filename": "log.txt"}
        [asked] = cp.calls_of("GetLog")
        assert asked["request_id"] == rid and asked["log_type"] == "SecurityLog"
        for status in ("Uploading", "Uploaded"):
            await cp.call(call.LogStatusNotification(status=status, request_id=rid))

        async def uploaded() -> dict[str, Any] | None:
            got = await log_detail(http, fleet, sid, rid)
            return got if got["uploadStatus"] == "Uploaded" else None

        got = await eventually(uploaded, what="the log's Uploaded status")
    assert (got["logType"], got["status"], got["filename"], got["retries"]) == (
        "SecurityLog",
        "Accepted",
        "log.txt",
        2,
    )
    assert [s["status"] for s in got["statuses"]] == ["Uploading", "Uploaded"]


async def test_get_diagnostics_then_diagnostics_status_notifications(fleet, http):
    sid = "CS16-SEC-DIAG"
    logs = f"{fleet.api('reporting')}/data/reporting/logs"
    async with connect16(fleet.station_url(sid), sid) as cp:
        assert (await cp.boot()).status == "Accepted"
        await speaks_16(http, fleet, sid)
        out = await send16(
            http,
            fleet,
            "reporting",
            "getDiagnostics",
            sid,
            {
                "location": "ftp://diag.example/in",
                "retries": 1,
                "startTime": "2026-11-20T00:00:00Z",
            },
        )
        [result] = out["results"]
        assert result["response"] == {"fileName": "diagnostics.zip"}
        [log] = (await http.get(logs, params={"callId": result["callId"]})).json()["items"]
        assert (log["stationId"], log["logType"], log["status"], log["filename"]) == (
            sid,
            "Diagnostics",
            "Accepted",
            "diagnostics.zip",
        )
        assert log["remoteLocation"] == "ftp://diag.example/in"
        assert log["oldestTimestamp"].startswith("2026-11-20T00:00:00")
        rid = log["requestId"]
        for status in ("Uploading", "UploadFailed"):
            await cp.call(call.DiagnosticsStatusNotification(status=status))

        async def failed() -> dict[str, Any] | None:
            got = await log_detail(http, fleet, sid, rid)
            return got if got["uploadStatus"] == "UploadFailure" else None

        got = await eventually(failed, what="UploadFailed as UploadFailure")
        assert [s["status"] for s in got["statuses"]] == ["Uploading", "UploadFailure"]

        # an Idle (asked for by TriggerMessage) is no upload's status: kept unlinked
        await cp.call(call.DiagnosticsStatusNotification(status="Idle"))

        async def idle() -> list[dict[str, Any]] | None:
            r = await http.get(
                f"{fleet.api('reporting')}/data/reporting/log-statuses",
                params={"stationId": sid, "linked": "false"},
            )
            items = r.json()["items"]
            return items or None

        [unlinked] = await eventually(idle, what="the unlinked Idle")
        assert unlinked["status"] == "Idle" and unlinked["requestId"] is None
    page = (await http.get(logs, params={"stationId": sid, "logType": "Diagnostics"})).json()
    assert page["total"] == 1
