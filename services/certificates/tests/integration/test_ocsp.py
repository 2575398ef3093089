"""GetCertificateStatus against a real OCSP responder on a local socket: the request it
receives names the certificate, the DER answer goes back base64, the cache holds until
nextUpdate; an unreachable responder, or one refusing, answers Failed."""

import base64
import socket
from datetime import UTC, datetime, timedelta

from certificates.ca import hash_data_issued
from certificates.handlers.get_certificate_status import get_certificate_status
from cryptography.x509 import ocsp
from csms_devstack.testing import handle
from csms_runtime import pki
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import GetCertificateStatusRequest
from prometheus_client import REGISTRY

CLOCK = FixedClock(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))


def counted(result: str) -> float:
    return REGISTRY.get_sample_value("csms_ocsp_requests_total", {"result": result}) or 0.0


def request_for(cert, issuer, url: str) -> GetCertificateStatusRequest:
    h = hash_data_issued(cert, issuer.cert)
    return GetCertificateStatusRequest.model_validate(
        {"ocspRequestData": {**h.as_json(), "responderURL": url}}
    )


def issue(responder):
    cert = responder.ca.issue(pki.new_key().public_key(), pki.name("CS-OCSP", "CSMS"))
    responder.certs[cert.serial_number] = cert
    return cert


async def ask(engine, ports, station, req):
    done = await handle(engine, ports, get_certificate_status, req, station, clock=CLOCK)
    return done.response


async def test_good_and_revoked_from_a_real_responder_then_cached(
    engine, ports, station, responder
):
    good, bad = issue(responder), issue(responder)
    responder.revoked.add(bad.serial_number)
    before = counted("accepted")

    resp = await ask(engine, ports, station, request_for(good, responder.ca, responder.url))
    assert resp.status == "Accepted"
    first = resp.ocsp_result
    [sent] = responder.requests
    asked = ocsp.load_der_ocsp_request(sent)
    assert asked.serial_number == good.serial_number
    assert (
        asked.issuer_name_hash.hex() == hash_data_issued(good, responder.ca.cert).issuer_name_hash
    )
    answer = ocsp.load_der_ocsp_response(base64.b64decode(resp.ocsp_result))
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == good.serial_number

    resp = await ask(engine, ports, station, request_for(bad, responder.ca, responder.url))
    answer = ocsp.load_der_ocsp_response(base64.b64decode(resp.ocsp_result))
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert len(responder.requests) == 2

    # the same hash data again before nextUpdate: from the cache, the responder is not asked
    again = await ask(engine, ports, station, request_for(good, responder.ca, responder.url))
    assert again.status == "Accepted" and again.ocsp_result == first
    assert len(responder.requests) == 2
    assert counted("accepted") - before == 3


async def test_without_next_update_not_cached(engine, ports, station, responder):
    responder.ttl = None
    cert = issue(responder)
    for _ in range(2):
        resp = await ask(engine, ports, station, request_for(cert, responder.ca, responder.url))
        assert resp.status == "Accepted"
    assert len(responder.requests) == 2


async def test_responder_refusing_answers_failed(engine, ports, station, responder):
    unknown = responder.ca.issue(pki.new_key().public_key(), pki.name("CS-X", "CSMS"))
    before = counted("failed")
    resp = await ask(engine, ports, station, request_for(unknown, responder.ca, responder.url))
    assert resp.status == "Failed" and resp.ocsp_result is None
    assert resp.status_info.reason_code == "OcspFailed"
    assert "UNAUTHORIZED" in resp.status_info.additional_info
    assert counted("failed") - before == 1


async def test_unreachable_responder_answers_failed(engine, ports, station, responder):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cert = issue(responder)
    resp = await ask(
        engine, ports, station, request_for(cert, responder.ca, f"http://127.0.0.1:{port}/")
    )
    assert resp.status == "Failed"
    assert "unreachable" in resp.status_info.additional_info
    assert responder.requests == []


async def test_cache_expires_at_next_update(engine, ports, station, responder, ocsp_client):
    responder.ttl = timedelta(seconds=1)
    cert = issue(responder)
    req = request_for(cert, responder.ca, responder.url)
    await ask(engine, ports, station, req)
    [(key, (der, until))] = ocsp_client._cache.items()
    ocsp_client._cache[key] = (der, until - 3600)  # as if nextUpdate had passed
    await ask(engine, ports, station, req)
    assert len(responder.requests) == 2
