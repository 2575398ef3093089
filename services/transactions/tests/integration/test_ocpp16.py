"""OCPP 1.6 sessions against a real PostgreSQL: the stored transaction equals the 2.0.1 one,
transactionIds stable under redelivery (same batch, later batch), duplicated and shuffled
MeterValues fold to the in-order result, connectors are EVSEs, unknown stops, 1.6 statuses,
and no CostUpdated for 1.6 stations."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from csms_devstack.testing import data_api_client, handle_batch
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from ocpp_schema import v16
from ocpp_schema.v201 import TransactionEventRequest
from transactions import api, ocpp16, store
from transactions.cost_updates import due_cost_updates
from transactions.handlers.transaction_event import transaction_event
from transactions.handlers16.meter_values import meter_values
from transactions.handlers16.start_transaction import start_transaction
from transactions.handlers16.status_notification import status_notification
from transactions.handlers16.stop_transaction import stop_transaction
from transactions.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
CLOCK = FixedClock(T0 + timedelta(hours=1))
SETTINGS = Settings(cost_update_interval=60)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def dispatch(
    req: Any,
    *,
    station: StationRef,
    payload: Any,
    sessions16: Any,
    transactions: Any,
    id_tokens: Any,
    samples: Any,
    statuses: Any,
    clock: Any,
    settings: Any,
    received_at: datetime,
) -> Any:
    """What the runtime does for a batch mixing 1.6 and 2.0.1 actions: the request's handler."""
    common = {"station": station, "clock": clock}
    tx = {"payload": payload, "transactions": transactions}
    if isinstance(req, v16.StartTransactionRequest):
        return await start_transaction(
            req, **common, **tx, sessions16=sessions16, id_tokens=id_tokens
        )
    if isinstance(req, v16.MeterValuesRequest):
        return await meter_values(req, **common, **tx, sessions16=sessions16, samples=samples)
    if isinstance(req, v16.StopTransactionRequest):
        return await stop_transaction(req, **common, **tx, id_tokens=id_tokens)
    if isinstance(req, v16.StatusNotificationRequest):
        return await status_notification(
            req, **common, **tx, statuses=statuses, sessions16=sessions16, received_at=received_at
        )
    return await transaction_event(req, **common, **tx, id_tokens=id_tokens, settings=settings)


async def send(engine, calls: list[tuple[Any, str]], *, received_at=None) -> list[Any]:
    """One consumed batch: (request, station) pairs in one unit of work; their ``Handled``."""
    return await handle_batch(
        engine,
        store.ports,
        dispatch,
        calls,
        clock=CLOCK,
        settings=SETTINGS,
        received_at=received_at,
    )


def start(connector: int = 1, *, at: datetime = T0, wh: int = 1000, tag: str = "TAG-16"):
    return v16.StartTransactionRequest.model_validate(
        {"connectorId": connector, "idTag": tag, "meterStart": wh, "timestamp": at.isoformat()}
    )


def meter(tx: int | None, at: datetime, *samples: dict[str, Any], connector: int = 1):
    body: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": at.isoformat(), "sampledValue": list(samples)}],
    }
    if tx is not None:
        body["transactionId"] = tx
    return v16.MeterValuesRequest.model_validate(body)


def energy(value: str, unit: str = "Wh") -> dict[str, Any]:
    return {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}


def stop(tx: int, *, at: datetime, wh: int, **kw: Any):
    body = {"transactionId": tx, "meterStop": wh, "timestamp": at.isoformat()}
    return v16.StopTransactionRequest.model_validate({**body, **kw})


def tx_event(tid: str, seq: int, event_type: str, at: datetime, wh: int, **extra: Any):
    body: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": at.isoformat(),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": tid, **extra.pop("info", {})},
        "meterValue": [{"timestamp": at.isoformat(), "sampledValue": [{"value": wh}]}],
        **extra,
    }
    return TransactionEventRequest.model_validate(body)


async def row_of(sessionmaker, station_id: str, tid: str | int) -> dict[str, Any]:
    async with sessionmaker() as s:
        row = await store.lock_transaction(s, station_id, str(tid))
        await s.commit()
    assert row is not None, (station_id, tid)
    return row


async def count(engine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.text(sql), params))


COMPARED = (
    "evse_id",
    "connector_id",
    "id_token",
    "id_token_type",
    "active",
    "has_started_event",
    "started_at",
    "ended_at",
    "last_event_at",
    "event_count",
    "charging_seconds",
    "energy_first_wh",
    "energy_last_wh",
    "energy_wh",
    "tariff_id",
    "currency",
    "total_cost",
    "stopped_reason",
    "anomaly",
)


async def test_a_1_6_session_is_stored_as_the_2_0_1_session(engine, sessionmaker, tariffs):
    s16, s201 = uid("CS16"), uid("CS201")
    await tariffs(uid("T"), [s16, s201], kwh="0.30", minute="0.05", session="1.00")

    [started] = await send(engine, [(start(), s16)])
    tx = started.response.transaction_id
    assert 0 < tx < 2**31 and started.response.id_tag_info.status == "Invalid"  # unknown tag
    later = [
        meter(tx, T0 + 10 * M, energy("3000")),
        meter(tx, T0 + 20 * M, energy("5", "kWh")),
        stop(tx, at=T0 + 30 * M, wh=7000, reason="EVDisconnected"),
    ]
    done = [started] + [d for m in later for d in await send(engine, [(m, s16)])]
    assert [orjson.loads(d.events[0].value)["type"] for d in done] == [
        "TransactionStarted",
        "TransactionUpdated",
        "TransactionUpdated",
        "TransactionEnded",
    ]
    assert all(d.events[0].topic == TOPIC_TRANSACTION_EVENTS for d in done)
    ended = orjson.loads(done[-1].events[0].value)
    assert ended["transactionId"] == str(tx) and ended["energyWh"] == 6000
    assert ended["evseId"] == 1 and ended["stoppedReason"] == "EVDisconnected"

    tid = str(tx)  # the 2.0.1 station happens to use the same id: another transaction
    evse, token = {"id": 1, "connectorId": 1}, {"idToken": "TAG-16", "type": "ISO14443"}
    for ev in (
        tx_event(tid, 0, "Started", T0, 1000, evse=evse, idToken=token),
        tx_event(tid, 1, "Updated", T0 + 10 * M, 3000),
        tx_event(tid, 2, "Updated", T0 + 20 * M, 5000),
        tx_event(tid, 3, "Ended", T0 + 30 * M, 7000, info={"stoppedReason": "EVDisconnected"}),
    ):
        await send(engine, [(ev, s201)])

    a, b = await row_of(sessionmaker, s16, tx), await row_of(sessionmaker, s201, tid)
    for col in COMPARED:
        assert a[col] == b[col], col
    assert a["energy_wh"] == Decimal(6000)
    assert a["total_cost"] == Decimal("1.00") + Decimal("1.80") + Decimal("1.50")
    assert a["next_cost_update_at"] is None and b["next_cost_update_at"] is not None

    # The stored events keep the 1.6 messages; the data API shows the session like any other.
    async with data_api_client(api.router, sessionmaker) as client:
        detail = (await client.get(f"/data/transactions/transactions/{tid}?stationId={s16}")).json()
        listed = (await client.get(f"/data/transactions/transactions?stationId={s16}")).json()
    assert [e["payload"]["customData"]["action"] for e in detail["events"]] == [
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
    ]
    assert detail["events"][-1]["payload"]["customData"]["payload"]["reason"] == "EVDisconnected"
    assert [m["value"] for m in detail["meterValues"]] == [1000, 3000, 5, 7000]
    assert listed["items"][0]["transactionId"] == tid


async def test_a_redelivered_start_gets_the_same_id_in_one_batch_and_in_a_later_one(
    engine, sessionmaker
):
    sid = uid("CS16")
    req = start(at=T0 + timedelta(seconds=1.5))
    twice = await send(engine, [(req, sid), (req, sid)])
    later = await send(engine, [(start(at=T0 + timedelta(seconds=1.5)), sid)])
    ids = {d.response.transaction_id for d in [*twice, *later]}
    assert len(ids) == 1
    (tx,) = ids
    assert (
        await count(
            engine, "select count(*) from transactions.transactions where station_id = :s", s=sid
        )
        == 1
    )
    row = await row_of(sessionmaker, sid, tx)
    assert row["event_count"] == 1 and row["energy_first_wh"] == Decimal(1000)
    assert (
        await count(
            engine,
            "select count(*) from transactions.transaction_ids_16 where station_id = :s",
            s=sid,
        )
        == 1
    )
    # Another start (another meterStart) is another transaction.
    [other] = await send(engine, [(start(at=T0 + timedelta(seconds=1.5), wh=1001), sid)])
    assert other.response.transaction_id != tx


async def test_duplicated_and_shuffled_meter_values_give_the_in_order_result(
    engine, sessionmaker, tariffs
):
    ordered, shuffled = uid("CS16"), uid("CS16")
    await tariffs(uid("T"), [ordered, shuffled], kwh="0.25", minute="0.01")
    txs = {}
    for sid in (ordered, shuffled):
        [d] = await send(engine, [(start(), sid)])
        txs[sid] = d.response.transaction_id

    def messages(tx: int) -> list[Any]:
        msgs = [meter(tx, T0 + i * M, energy(str(1000 + 250 * i))) for i in range(1, 13)]
        # Same second as the 12th: another message, both must count.
        msgs.append(meter(tx, T0 + 12 * M, {"value": "11", "measurand": "Power.Active.Import",
                                            "unit": "kW"}))  # fmt: skip
        # Sorted by time for the in-order station; the shuffled one gets it last of all.
        msgs.insert(6, meter(tx, T0 + 6 * M + timedelta(seconds=30), {"value": "230",
                                                                     "measurand": "Voltage"}))  # fmt: skip
        return msgs

    def stop_of(tx: int) -> Any:
        return stop(tx, at=T0 + 13 * M, wh=4300, idTag="TAG-16")

    async def compare() -> dict[str, Any]:
        a = await row_of(sessionmaker, ordered, txs[ordered])
        b = await row_of(sessionmaker, shuffled, txs[shuffled])
        for col in (*COMPARED, "last_seq_no"):
            assert a[col] == b[col], col
        return a

    async def in_batches(msgs: list[Any]) -> None:
        # Batches of 1 to 4: duplicates and disorder inside a batch and across batches.
        rng = random.Random(61)
        while msgs:
            n = rng.randint(1, 4)
            await send(engine, [(m, shuffled) for m in msgs[:n]])
            msgs = msgs[n:]

    for m in messages(txs[ordered]):
        await send(engine, [(m, ordered)])
    mixed = messages(txs[shuffled])
    last = mixed.pop(6)
    mixed += mixed[:5]
    random.Random(16).shuffle(mixed)
    await in_batches([*mixed, last])
    # Still charging: the running cost counts the time to the latest sample, not the last
    # one to arrive.
    a = await compare()
    assert a["active"] and a["last_event_at"] == T0 + 12 * M
    assert a["total_cost"] == Decimal("0.87")  # 3.0 kWh at 0.25 + 12 min at 0.01

    await send(engine, [(stop_of(txs[ordered]), ordered)])
    late = meter(txs[shuffled], T0 + 5 * M + timedelta(seconds=30), energy("2300"))
    await send(engine, [(meter(txs[ordered], T0 + 5 * M + timedelta(seconds=30), energy("2300")),
                         ordered)])  # fmt: skip
    await in_batches([stop_of(txs[shuffled]), late, stop_of(txs[shuffled]), late])
    a = await compare()
    assert a["energy_wh"] == Decimal(3300) and a["event_count"] == 17
    assert a["last_seq_no"] == ocpp16.STOP_SEQ and a["last_event_at"] == T0 + 13 * M
    assert a["total_cost"] == Decimal("0.96")  # 3.3 kWh at 0.25 + 13 min at 0.01, to the cent
    for sid, tx in txs.items():
        assert await count(
            engine,
            "select count(*) from transactions.meter_values where station_id = :s"
            " and transaction_id = :t",
            s=sid,
            t=str(tx),
        ) == 17  # fmt: skip


async def test_two_connectors_are_two_evses(engine, sessionmaker):
    sid = uid("CS16")
    one, two = await send(engine, [(start(1), sid), (start(2, tag="TAG-B"), sid)])
    t1, t2 = one.response.transaction_id, two.response.transaction_id
    assert t1 != t2
    await send(
        engine,
        [
            (meter(t1, T0 + M, energy("1500"), connector=1), sid),
            (meter(t2, T0 + M, energy("1800"), connector=2), sid),
            (stop(t2, at=T0 + 2 * M, wh=2500), sid),
            (stop(t1, at=T0 + 2 * M, wh=2000), sid),
        ],
    )
    r1, r2 = await row_of(sessionmaker, sid, t1), await row_of(sessionmaker, sid, t2)
    assert (r1["evse_id"], r1["connector_id"], r1["energy_wh"]) == (1, 1, Decimal(1000))
    assert (r2["evse_id"], r2["connector_id"], r2["energy_wh"]) == (2, 1, Decimal(1500))
    assert (r1["id_token"], r2["id_token"]) == ("TAG-16", "TAG-B")
    assert not r1["active"] and not r2["active"]


async def test_a_stop_for_an_unknown_transaction_is_stored_and_answered(
    engine, sessionmaker, tariffs
):
    sid = uid("CS16")
    [done] = await send(engine, [(stop(2_000_000_000, at=T0, wh=10, idTag="TAG-16"), sid)])
    assert done.response.id_tag_info.status == "Invalid"
    row = await row_of(sessionmaker, sid, 2_000_000_000)
    assert row["anomaly"] == "no Started event received" and not row["active"]
    assert row["stopped_reason"] == "Local"
    # Meter values of an unknown transaction too.
    await send(engine, [(meter(2_000_000_000, T0 - M, energy("5")), sid)])
    assert (await row_of(sessionmaker, sid, 2_000_000_000))["event_count"] == 2


async def test_meter_values_outside_a_transaction(engine):
    sid = uid("CS16")
    req = meter(None, T0, energy("42"), connector=0)
    await send(engine, [(req, sid), (req, sid)])
    await send(engine, [(req, sid)])
    assert await count(
        engine,
        "select count(*) from transactions.meter_values where station_id = :s"
        " and transaction_id is null and evse_id = 0",
        s=sid,
    ) == 1  # fmt: skip


def status(connector: int, state: str, at: datetime | None, **kw: Any):
    body: dict[str, Any] = {"connectorId": connector, "status": state, "errorCode": "NoError", **kw}
    if at is not None:
        body["timestamp"] = at.isoformat()
    return v16.StatusNotificationRequest.model_validate(body)


async def test_statuses_land_in_the_2_0_1_table_with_their_1_6_detail(engine, sessionmaker):
    sid = uid("CS16")
    received = [T0 + 2 * M + timedelta(seconds=i) for i in range(4)]
    await send(
        engine,
        [
            (status(0, "Available", T0), sid),
            (status(1, "Preparing", T0 + M), sid),
            (status(1, "Charging", T0 + M), sid),  # same second, another 1.6 status
            (status(2, "Faulted", None, errorCode="GroundFailure", vendorErrorCode="E7"), sid),
        ],
        received_at=received,
    )
    # A redelivered Preparing (its received_at is the router's, the same) changes nothing.
    await send(engine, [(status(1, "Preparing", T0 + M), sid)], received_at=received[1])
    async with data_api_client(api.router, sessionmaker) as client:
        evses = (await client.get(f"/data/transactions/evses?stationId={sid}")).json()
        history = (await client.get(f"/data/transactions/evses/history?stationId={sid}")).json()
    got = {(e["evseId"], e["connectorId"]): e for e in evses}
    assert set(got) == {(0, 0), (1, 1), (2, 1)}
    assert (got[(1, 1)]["status"], got[(1, 1)]["status16"]) == ("Occupied", "Charging")
    assert got[(2, 1)]["status"] == "Faulted" and got[(2, 1)]["errorCode"] == "GroundFailure"
    assert got[(2, 1)]["vendorErrorCode"] == "E7"
    assert got[(2, 1)]["statusAt"].startswith("2026-11-21T10:02:03")  # received_at
    assert got[(0, 0)]["status16"] == "Available"
    assert history["total"] == 4
    assert sorted(h["status16"] for h in history["items"]) == [
        "Available",
        "Charging",
        "Faulted",
        "Preparing",
    ]


async def test_no_cost_updated_for_a_1_6_station(engine, sessionmaker, tariffs, device_model):
    s16, s201 = uid("CS16"), uid("CS201")
    await tariffs(uid("T"), [s16, s201], session="1", minute="0.10")
    [d] = await send(engine, [(start(), s16)])
    tid = uid("TX")
    await send(engine, [(tx_event(tid, 0, "Started", T0, 0), s201)])
    # A 1.6 session is created without a next cost update; even a 2.0.1 session is not sent
    # one once its station reconnected with 1.6, whatever its device model says.
    async with engine.begin() as conn:
        old = await conn.execute(
            sa.text(
                "insert into configuration.stations (id, protocol) values (:a, 'ocpp1.6'),"
                " (:b, 'ocpp1.6')"
            ),
            {"a": s16, "b": s201},
        )
        assert old.rowcount == 2
    for sid in (s16, s201):
        await device_model(sid, "Enabled", "true")
    due = await due_cost_updates(
        sessionmaker, now=T0 + timedelta(hours=5), interval=60, limit=100_000
    )
    assert not [sid for sid, _ in due if sid in (s16, s201)]
    assert (await row_of(sessionmaker, s16, d.response.transaction_id))[
        "next_cost_update_at"
    ] is None
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("update configuration.stations set protocol = 'ocpp2.0.1' where id = :b"),
            {"b": s201},
        )
    due = await due_cost_updates(
        sessionmaker, now=T0 + timedelta(hours=6), interval=60, limit=100_000
    )
    assert [sid for sid, _ in due if sid in (s16, s201)] == [s201]


async def test_a_batch_of_1_6_sessions_costs_a_bounded_number_of_statements(engine):
    """As many round trips for 2 sessions as for 20 (the 2.0.1 path's promise, ADR 0009)."""

    async def statements(n: int) -> int:
        sids = [uid("CS16") for _ in range(n)]
        [*_] = await send(engine, [(start(), s) for s in sids])
        async with engine.connect() as conn:
            ids = dict(
                (
                    await conn.execute(
                        sa.text(
                            "select station_id, id from transactions.transaction_ids_16"
                            " where station_id = any(:s)"
                        ),
                        {"s": sids},
                    )
                ).all()
            )
        batch = [(meter(ids[s], T0 + M, energy("1100")), s) for s in sids]
        batch += [(stop(ids[s], at=T0 + 2 * M, wh=1200), s) for s in sids]
        seen = []

        def count_it(*args: Any) -> None:
            seen.append(args[2])

        sa.event.listen(engine.sync_engine, "before_cursor_execute", count_it)
        try:
            await send(engine, batch)
        finally:
            sa.event.remove(engine.sync_engine, "before_cursor_execute", count_it)
        return len(seen)

    assert await statements(2) == await statements(20)


# --- charging state from StatusNotification --------------------------------------------------

SUSPENDED = [
    status(1, "Charging", T0 + M),
    status(1, "SuspendedEV", T0 + 20 * M),
    status(1, "Charging", T0 + 30 * M),
]
"""Charging from +1 to +20 min, suspended 10 min, charging from +30 min to the stop at +60."""
CHARGED = (19 + 30) * 60


async def suspended_16(engine, sid: str, batches: list[list[Any]]) -> int:
    """Preparing, StartTransaction, a meter value, then ``batches`` of statuses, then the stop
    (each batch one unit of work); the transactionId."""
    await send(engine, [(status(1, "Preparing", T0 - M), sid)])
    [started] = await send(engine, [(start(), sid)])
    tx = started.response.transaction_id
    await send(engine, [(meter(tx, T0 + 10 * M, energy("2000")), sid)])
    for batch in batches:
        await send(engine, [(s, sid) for s in batch])
    await send(engine, [(stop(tx, at=T0 + 60 * M, wh=4000), sid)])
    return tx


async def test_a_suspended_1_6_session_costs_what_the_2_0_1_one_does(engine, sessionmaker, tariffs):
    s16, s201 = uid("CS16"), uid("CS201")
    await tariffs(uid("T"), [s16, s201], kwh="0.30", minute="0.10", session="1.00")
    tx = await suspended_16(engine, s16, [[s] for s in SUSPENDED])

    tid = str(tx)
    evse, token = {"id": 1, "connectorId": 1}, {"idToken": "TAG-16", "type": "ISO14443"}
    for ev in (
        tx_event(tid, 0, "Started", T0, 1000, evse=evse, idToken=token),
        tx_event(tid, 1, "Updated", T0 + M, 1000, info={"chargingState": "Charging"}),
        tx_event(tid, 2, "Updated", T0 + 10 * M, 2000),
        tx_event(tid, 3, "Updated", T0 + 20 * M, 2000, info={"chargingState": "SuspendedEV"}),
        tx_event(tid, 4, "Updated", T0 + 30 * M, 2000, info={"chargingState": "Charging"}),
        tx_event(tid, 5, "Ended", T0 + 60 * M, 4000),
    ):
        await send(engine, [(ev, s201)])
    a, b = await row_of(sessionmaker, s16, tx), await row_of(sessionmaker, s201, tid)
    for col in (*COMPARED, "charging_state"):
        assert a[col] == b[col], col
    assert a["charging_seconds"] == CHARGED
    assert a["total_cost"] == Decimal("1.00") + Decimal("0.90") + Decimal("4.90")

    async with data_api_client(api.router, sessionmaker) as client:
        detail = (await client.get(f"/data/transactions/transactions/{tid}?stationId={s16}")).json()
        evses = (await client.get(f"/data/transactions/evses?stationId={s16}")).json()
    changes = [
        e for e in detail["events"] if e["payload"]["customData"]["action"] == "StatusNotification"
    ]
    assert [e["payload"]["transactionInfo"]["chargingState"] for e in changes] == [
        "Charging",
        "SuspendedEV",
        "Charging",
    ]
    assert {e["payload"]["triggerReason"] for e in changes} == {"ChargingStateChanged"}
    # The connector's status is stored as before.
    assert [(e["status"], e["status16"]) for e in evses] == [("Occupied", "Charging")]


async def test_redelivered_and_reordered_statuses_give_the_in_order_result(
    engine, sessionmaker, tariffs
):
    sids = [uid("CS16") for _ in range(3)]
    await tariffs(uid("T"), sids, kwh="0.30", minute="0.10", session="1.00")
    in_order = await suspended_16(engine, sids[0], [[s] for s in SUSPENDED])
    # Reordered across batches, each redelivered: in the same batch and in a later one.
    shuffled = await suspended_16(
        engine,
        sids[1],
        [[SUSPENDED[2], SUSPENDED[2]], [SUSPENDED[0]], [SUSPENDED[1], SUSPENDED[0]]],
    )
    # All in one batch, late one first, with the start and a redelivery.
    [_, started, *_] = await send(
        engine,
        [
            (status(1, "Preparing", T0 - M), sids[2]),
            (start(), sids[2]),
            *((s, sids[2]) for s in (SUSPENDED[1], SUSPENDED[2], SUSPENDED[0], SUSPENDED[1])),
        ],
    )
    one = started.response.transaction_id
    await send(engine, [(meter(one, T0 + 10 * M, energy("2000")), sids[2])])
    await send(engine, [(stop(one, at=T0 + 60 * M, wh=4000), sids[2])])

    rows = [
        await row_of(sessionmaker, s, t)
        for s, t in zip(sids, (in_order, shuffled, one), strict=True)
    ]
    for row in rows[1:]:
        for col in (*COMPARED, "charging_state", "last_seq_no"):
            assert row[col] == rows[0][col], col
    assert rows[0]["charging_seconds"] == CHARGED
    for sid in sids:
        assert (
            await count(
                engine,
                "select count(*) from transactions.transaction_events where station_id = :s",
                s=sid,
            )
            == 6
        )
        assert (
            await count(
                engine, "select count(*) from transactions.seq_nos_16 where station_id = :s", s=sid
            )
            == 4
        )
    # Redelivered after the stop: no transaction is active; nothing changes.
    done = await send(engine, [(s, sids[0]) for s in SUSPENDED])
    assert all(d.events == [] for d in done)
    assert await row_of(sessionmaker, sids[0], in_order) == rows[0]


async def test_a_status_without_a_timestamp_is_at_its_receive_time(engine, sessionmaker):
    sid = uid("CS16")
    [started, _] = await send(engine, [(start(), sid), (status(1, "Charging", T0), sid)])
    tx = started.response.transaction_id
    bare = status(1, "SuspendedEVSE", None)
    for _ in range(2):  # redelivered in a later batch: the router's receive time is the same
        [done] = await send(engine, [(bare, sid)], received_at=T0 + 5 * M)
        assert orjson.loads(done.events[0].value)["chargingState"] == "SuspendedEVSE"
    await send(engine, [(bare, sid), (bare, sid)], received_at=T0 + 9 * M)  # later: another
    await send(engine, [(stop(tx, at=T0 + 10 * M, wh=1000), sid)])
    row = await row_of(sessionmaker, sid, tx)
    assert row["charging_seconds"] == 5 * 60 and row["event_count"] == 5


async def test_a_status_without_an_active_transaction_touches_no_transaction(engine, sessionmaker):
    sid = uid("CS16")
    done = await send(engine, [(status(1, "Charging", T0), sid), (status(2, "Charging", T0), sid)])
    assert all(d.events == [] for d in done)
    [started] = await send(engine, [(start(2), sid)])
    tx = started.response.transaction_id
    before = await row_of(sessionmaker, sid, tx)
    done = await send(
        engine,
        [
            (status(1, "SuspendedEV", T0 + M), sid),  # another connector
            (status(0, "Faulted", T0 + M), sid),  # the station
            (status(2, "Reserved", T0 + M), sid),  # no charging state
            (status(2, "Charging", T0 - M), sid),  # before the session
        ],
    )
    assert all(d.events == [] for d in done)
    assert await row_of(sessionmaker, sid, tx) == before
    for table in ("transactions", "transaction_events", "seq_nos_16"):
        assert await count(
            engine, f"select count(*) from transactions.{table} where station_id = :s", s=sid
        ) == (1 if table != "seq_nos_16" else 0)
    assert (
        await count(
            engine,
            "select count(*) from transactions.connector_status_history where station_id = :s",
            s=sid,
        )
        == 6
    )


async def test_the_active_transaction_of_a_connector_is_an_index_probe(engine):
    async with engine.connect() as conn:
        await conn.execute(sa.text("set enable_seqscan = off"))
        plan = "\n".join(
            r[0]
            for r in await conn.execute(
                sa.text(
                    "explain select t.transaction_id from transactions.transactions t"
                    " where t.station_id = 'CS' and t.evse_id = 1 and t.active"
                    " order by t.started_at desc nulls last limit 1"
                )
            )
        )
    assert "ix_transactions_active_evse" in plan and "Sort" not in plan


async def test_a_batch_of_1_6_statuses_costs_a_bounded_number_of_statements(engine):
    """As many round trips for the charging-state changes of 2 sessions as of 20."""

    async def statements(n: int) -> int:
        sids = [uid("CS16") for _ in range(n)]
        await send(engine, [(start(), s) for s in sids])
        batch = [(status(1, "Charging", T0 + M), s) for s in sids]
        batch += [(status(1, "SuspendedEV", None), s) for s in sids]
        batch += [(status(2, "Charging", T0 + M), s) for s in sids]  # no transaction there
        seen = []

        def count_it(*args: Any) -> None:
            seen.append(args[2])

        sa.event.listen(engine.sync_engine, "before_cursor_execute", count_it)
        try:
            done = await send(engine, batch)
        finally:
            sa.event.remove(engine.sync_engine, "before_cursor_execute", count_it)
        assert sum(len(d.events) for d in done) == 2 * n
        return len(seen)

    assert await statements(2) == await statements(20)
