"""Authorize without a database: the certificate answer and the shape of the reply."""

from datetime import UTC, datetime

from csms_runtime.clock import FixedClock
from evdriver.handlers import authorize as mod
from ocpp_schema.v201 import AuthorizeRequest

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class FakeSession:
    async def connection(self):
        return object()


async def test_certificate_is_never_claimed_valid(monkeypatch):
    async def info(conn, id_token, type_, now, **kw):
        assert (id_token, type_, now) == ("EMAID1", "eMAID", T0)
        return {"status": "Accepted"}

    monkeypatch.setattr(mod, "id_token_info", info)
    req = AuthorizeRequest.model_validate(
        {"idToken": {"idToken": "EMAID1", "type": "eMAID"}, "certificate": "-----BEGIN..."}
    )
    resp = await mod.authorize(req, session=FakeSession(), clock=FixedClock(T0))
    out = resp.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert out == {
        "idTokenInfo": {"status": "Accepted"},
        "certificateStatus": "NoCertificateAvailable",
    }


async def test_no_certificate_no_certificate_status(monkeypatch):
    async def info(conn, id_token, type_, now, **kw):
        return {"status": "Blocked", "chargingPriority": 3}

    monkeypatch.setattr(mod, "id_token_info", info)
    req = AuthorizeRequest.model_validate({"idToken": {"idToken": "X", "type": "ISO14443"}})
    resp = await mod.authorize(req, session=FakeSession(), clock=FixedClock(T0))
    assert resp.model_dump(by_alias=True, exclude_none=True, mode="json") == {
        "idTokenInfo": {"status": "Blocked", "chargingPriority": 3}
    }
