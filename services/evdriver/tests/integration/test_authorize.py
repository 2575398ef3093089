"""Authorize on real PostgreSQL: tokens put through the store, answered by the rules of
csms_runtime.idtokens (Unknown, Blocked, Expired, ConcurrentTx, NoAuthorization, Central)."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from evdriver import store
from sqlalchemy.engine import make_url

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def tok() -> str:
    return f"TK{uuid.uuid4().hex[:12]}"


def authorize_req(id_token: str, type_: str = "ISO14443", **extra) -> dict:
    return {"idToken": {"idToken": id_token, "type": type_}, **extra}


@pytest.fixture
def insert_transaction(database_url):
    def run(station_id: str, transaction_id: str, id_token: str, type_: str, active: bool) -> None:
        plain = make_url(database_url).set(drivername="postgresql")
        with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(
                "insert into transactions.transactions"
                " (station_id, transaction_id, id_token, id_token_type, active)"
                " values (%s, %s, %s, %s, %s)",
                (station_id, transaction_id, id_token, type_, active),
            )

    return run


async def test_unknown_token_is_unknown(call, station):
    resp = await call(station, "Authorize", authorize_req(tok()))
    assert resp == {"idTokenInfo": {"status": "Unknown"}}


async def test_blocked_token_is_blocked(call, session, station):
    t = tok()
    await store.put_id_token(session, t, "ISO14443", {"status": "Blocked"}, T0)
    resp = await call(station, "Authorize", authorize_req(t))
    assert resp["idTokenInfo"]["status"] == "Blocked"
    # the same id with another type is another token
    resp = await call(station, "Authorize", authorize_req(t, "KeyCode"))
    assert resp["idTokenInfo"]["status"] == "Unknown"


async def test_accepted_token_carries_its_info(call, session, station):
    t = tok()
    await store.put_id_token(
        session,
        t,
        "ISO14443",
        {
            "status": "Accepted",
            "cache_expiry_date_time": T0 + timedelta(days=1),
            "charging_priority": 5,
            "language1": "nl",
            "group_id_token": "FLEET-1",
            "group_id_token_type": "Central",
            "personal_message": {"format": "UTF8", "content": "Hallo"},
        },
        T0,
    )
    resp = await call(station, "Authorize", authorize_req(t))
    info = resp["idTokenInfo"]
    assert info["status"] == "Accepted"
    assert info["chargingPriority"] == 5 and info["language1"] == "nl"
    assert info["groupIdToken"] == {"idToken": "FLEET-1", "type": "Central"}
    assert info["personalMessage"] == {"format": "UTF8", "content": "Hallo"}
    assert datetime.fromisoformat(info["cacheExpiryDateTime"]) == T0 + timedelta(days=1)
    assert "certificateStatus" not in resp


async def test_expired_token_is_expired(call, session, station):
    t = tok()
    await store.put_id_token(
        session,
        t,
        "ISO14443",
        {"status": "Accepted", "cache_expiry_date_time": T0 - timedelta(seconds=1)},
        T0,
    )
    resp = await call(station, "Authorize", authorize_req(t))
    assert resp["idTokenInfo"]["status"] == "Expired"


async def test_token_in_an_active_transaction_is_concurrent(
    call, session, station, insert_transaction
):
    t, shared = tok(), tok()
    await store.put_id_token(session, t, "ISO14443", {"status": "Accepted"}, T0)
    await store.put_id_token(
        session, shared, "ISO14443", {"status": "Accepted", "allow_concurrent_tx": True}, T0
    )
    insert_transaction("OTHER", f"tx-{t}", t, "ISO14443", True)
    insert_transaction("OTHER", f"tx-{shared}", shared, "ISO14443", True)
    assert (await call(station, "Authorize", authorize_req(t)))["idTokenInfo"][
        "status"
    ] == "ConcurrentTx"
    assert (await call(station, "Authorize", authorize_req(shared)))["idTokenInfo"][
        "status"
    ] == "Accepted"


async def test_ended_transaction_does_not_count(call, session, station, insert_transaction):
    t = tok()
    await store.put_id_token(session, t, "ISO14443", {"status": "Accepted"}, T0)
    insert_transaction("OTHER", f"tx-{t}", t, "ISO14443", False)
    assert (await call(station, "Authorize", authorize_req(t)))["idTokenInfo"][
        "status"
    ] == "Accepted"


async def test_no_authorization_and_unknown_central_are_accepted(call, station):
    assert await call(station, "Authorize", authorize_req("", "NoAuthorization")) == {
        "idTokenInfo": {"status": "Accepted"}
    }
    assert await call(station, "Authorize", authorize_req(tok(), "Central")) == {
        "idTokenInfo": {"status": "Accepted"}
    }


async def test_contract_certificate_is_not_claimed_valid(call, session, station):
    t = tok()
    await store.put_id_token(session, t, "eMAID", {"status": "Accepted"}, T0)
    hash_data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 64,
        "issuerKeyHash": "b" * 64,
        "serialNumber": "01",
        "responderURL": "http://ocsp.example",
    }
    for extra in (
        {"certificate": "-----BEGIN CERTIFICATE-----"},
        {"iso15118CertificateHashData": [hash_data]},
    ):
        resp = await call(station, "Authorize", authorize_req(t, "eMAID", **extra))
        assert resp == {
            "idTokenInfo": {"status": "Accepted"},
            "certificateStatus": "NoCertificateAvailable",
        }


async def test_a_batch_of_authorizes_reads_its_tokens_in_at_most_two_queries(
    calls, engine, session, station, insert_transaction
):
    """Authorize is the hot path: PgIdTokens preloads every token of the batch at once (the
    tokens, then the active transactions of the exclusive Accepted ones), whatever its size."""
    accepted, blocked, busy = [tok() for _ in range(20)], [tok() for _ in range(5)], tok()
    for t in [*accepted, busy]:
        await store.put_id_token(session, t, "ISO14443", {"status": "Accepted"}, T0)
    for t in blocked:
        await store.put_id_token(session, t, "ISO14443", {"status": "Blocked"}, T0)
    insert_transaction("OTHER", f"tx-{busy}", busy, "ISO14443", True)
    unknown = [tok() for _ in range(5)]
    tokens = [*accepted, *blocked, busy, *unknown, accepted[0]]  # a token twice in one batch

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        out = await calls([(station, "Authorize", authorize_req(t)) for t in tokens])
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert [o["idTokenInfo"]["status"] for o in out] == (
        ["Accepted"] * 20 + ["Blocked"] * 5 + ["ConcurrentTx"] + ["Unknown"] * 5 + ["Accepted"]
    )
    reads = [s for s in statements if s.lstrip().lower().startswith("select")]
    assert len(reads) == 2, statements
