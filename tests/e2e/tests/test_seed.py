"""csms_e2e.seed fills a freshly migrated database with rows the services and their data APIs
read as their own: counts, constraints, schema-valid payloads, a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from csms_devstack.testing import data_api_client, migrated_database
from csms_e2e import seed
from csms_runtime import db
from ocpp_schema.validation import validate_request
from transactions import api

STATIONS, TRANSACTIONS, TOKENS = 500, 2_000, 300
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[str, dict]]:
    with migrated_database(
        ["configuration", "transactions", "evdriver"], prefix="csms_seed"
    ) as url:
        result = seed.seed(
            url,
            stations=STATIONS,
            transactions=TRANSACTIONS,
            id_tokens=TOKENS,
            chunk=700,  # several chunks, the last one short
            now=NOW,
        )
        yield url, result


def query(url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(seed.libpq_dsn(url)) as conn:
        return conn.execute(sql, params).fetchall()


def test_counts(seeded):
    url, result = seeded
    active = TRANSACTIONS // seed.ACTIVE_ONE_IN
    ended = TRANSACTIONS - active
    expected = {
        "configuration.stations": STATIONS,
        "evdriver.id_tokens": TOKENS,
        "transactions.transactions": TRANSACTIONS,
        "transactions.transaction_events": 3 * ended + 2 * active,
        "transactions.meter_values": 4 * ended + 3 * active,
        "transactions.transaction_ids_16": TRANSACTIONS,
        "transactions.seq_nos_16": seed.SEQS_16 * TRANSACTIONS,
        "transactions.connector_statuses": STATIONS + STATIONS // 2,  # odd-numbered: 2 EVSEs
    }
    assert result["rows"] == expected
    for table, n in expected.items():
        assert query(url, f"select count(*) from {table}") == [(n,)]
    assert result["active_transactions"] == active == 2
    assert result["seconds"] > 0 and result["database_mib"] > 0


def test_ids_are_prefixed_and_consistent(seeded):
    url, _ = seeded
    assert query(url, "select min(id), max(id) from configuration.stations") == [
        (seed.station_id(1), seed.station_id(STATIONS))
    ]
    # Every transaction is at a seeded station with a seeded token, its events and meter
    # values belong to it.
    assert query(
        url,
        "select count(*) from transactions.transactions t"
        " left join configuration.stations s on s.id = t.station_id"
        " left join evdriver.id_tokens k on k.id_token = t.id_token and k.type = t.id_token_type"
        " where s.id is null or k.id_token is null",
    ) == [(0,)]
    assert query(
        url,
        "select count(*) from transactions.transaction_events e where not exists (select 1 from"
        " transactions.transactions t where (t.station_id, t.transaction_id)"
        " = (e.station_id, e.transaction_id) and e.seq_no <= t.last_seq_no)",
    ) == [(0,)]
    # No station's sessions overlap; none lies in the future; all within the past year.
    assert query(
        url,
        "select count(*) from transactions.transactions a join transactions.transactions b"
        " on a.station_id = b.station_id and a.started_at <= b.started_at and a.id <> b.id"
        " and b.started_at < coalesce(a.ended_at, 'infinity')",
    ) == [(0,)]
    lo, hi = query(
        url, "select min(started_at), max(coalesce(ended_at, last_event_at))"
        " from transactions.transactions"
    )[0]  # fmt: skip
    assert NOW - timedelta(days=366) < lo and hi <= NOW


def test_active_sessions_occupy_their_connector(seeded):
    url, _ = seeded
    active = query(
        url,
        "select station_id, evse_id from transactions.transactions where active"
        " and ended_at is null and stopped_reason is null order by 1, 2",
    )
    assert len(active) == TRANSACTIONS // seed.ACTIVE_ONE_IN
    occupied = query(
        url,
        "select station_id, evse_id from transactions.connector_statuses"
        " where status = 'Occupied' order by 1, 2",
    )
    assert occupied == active


def test_event_payloads_are_schema_valid(seeded):
    url, _ = seeded
    rows = query(
        url,
        "select payload from transactions.transaction_events"
        " where transaction_id in (%s, %s) order by id",
        seed.transaction_id(1),
        seed.transaction_id(TRANSACTIONS),  # an active one
    )
    assert [p["eventType"] for (p,) in rows] == [
        "Started",
        "Updated",
        "Ended",
        "Started",
        "Updated",
    ]
    for (payload,) in rows:
        validate_request("TransactionEvent", payload)


async def test_the_transactions_api_reads_them(seeded):
    url, _ = seeded
    engine = db.make_engine(url, schema="transactions")
    try:
        async with data_api_client(api.router, db.make_sessionmaker(engine)) as client:
            r = await client.get(
                "/data/transactions/transactions",
                params={"stationId": seed.station_id(1), "limit": 10},
            )
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["total"] == TRANSACTIONS // STATIONS
            first = page["items"][-1]  # newest first
            assert first["transactionId"] == seed.transaction_id(1)
            assert first["active"] is False and first["eventCount"] == 3
            assert first["energyWh"] > 0 and first["totalCost"] > 0
            assert first["currency"] == "EUR" and first["tariffId"] == seed.TARIFF_ID

            r = await client.get(
                "/data/transactions/transactions", params={"active": "true", "limit": 10}
            )
            assert r.json()["total"] == TRANSACTIONS // seed.ACTIVE_ONE_IN

            r = await client.get(f"/data/transactions/transactions/{seed.transaction_id(1)}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert len(body["events"]) == 3 and len(body["meterValues"]) == 4
    finally:
        await engine.dispose()


def test_seeding_again_adds_nothing(seeded):
    url, _ = seeded
    with psycopg.connect(seed.libpq_dsn(url)) as conn:  # a connection, not in autocommit
        again = seed.seed(
            conn,
            stations=STATIONS,
            transactions=TRANSACTIONS,
            id_tokens=TOKENS,
            chunk=500,
            workers=3,
            vacuum=False,
            now=NOW,
        )
        assert conn.autocommit is False
    assert set(again["rows"].values()) == {0}
    assert again["chunks_already_there"] == TRANSACTIONS // 500
