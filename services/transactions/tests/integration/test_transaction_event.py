"""TransactionEvent against a real PostgreSQL: a whole session, duplicates, out-of-order and late
events, unknown transactions, tariffs and idTokenInfo."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import sqlalchemy as sa
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from prometheus_client import REGISTRY

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
STATE_COLUMNS = [
    "evse_id",
    "connector_id",
    "id_token",
    "id_token_type",
    "remote_start_id",
    "reservation_id",
    "charging_state",
    "stopped_reason",
    "active",
    "has_started_event",
    "started_at",
    "ended_at",
    "last_seq_no",
    "last_event_at",
    "event_count",
    "seen_charging_state",
    "charging_since",
    "charging_state_seconds",
    "time_spent_charging",
    "charging_seconds",
    "energy_first_wh",
    "energy_last_wh",
    "energy_wh",
    "tariff_id",
    "currency",
    "total_cost",
    "anomaly",
]


def uid(prefix: str = "TX") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def session_events(make_event, tid: str) -> list:
    """A session: plugged in, charging from +1 min, per-phase and power samples to ignore,
    kWh readings, two offline updates, ended at +30 min. 6000 Wh, 29 min charging."""
    m = timedelta(minutes=1)
    return [
        make_event(
            tid, 0, "Started", T0, trigger="CablePluggedIn", charging_state="EVConnected",
            wh=1000, evse=(1, 1), id_token="TOKEN-1", remote_start_id=7, reservation_id=3,
        ),
        make_event(tid, 1, "Updated", T0 + m, trigger="ChargingStateChanged",
                   charging_state="Charging", wh=1.5, unit="kWh"),
        make_event(
            tid, 2, "Updated", T0 + 10 * m, wh=3000,
            extra_samples=[
                {"value": 900, "measurand": "Energy.Active.Import.Register", "phase": "L1"},
                {"value": 7.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}},
            ],
            offline=True,
        ),
        make_event(tid, 3, "Updated", T0 + 20 * m, wh=5, unit="kWh", offline=True),
        make_event(
            tid, 4, "Ended", T0 + 30 * m, trigger="EVDeparted", charging_state="Idle",
            wh=7000, stopped_reason="EVDisconnected",
        ),
    ]  # fmt: skip


async def test_whole_session_in_order(make_event, send, tx_row, publisher, tariffs):
    sid, tid = uid("CS"), uid()
    await tariffs("T-WHOLE", [sid], kwh="0.30", minute="0.05", session="1.00")
    answers = [await send(ev, sid) for ev in session_events(make_event, tid)]

    assert answers[0] == {"idTokenInfo": {"status": "Unknown"}}
    assert answers[1:4] == [{}, {}, {}]
    # 1.00 + 6 kWh x 0.30 + 29 min x 0.05 = 4.25
    assert answers[4] == {"totalCost": 4.25}

    row = await tx_row(sid, tid)
    assert (row["evse_id"], row["connector_id"]) == (1, 1)
    assert (row["id_token"], row["id_token_type"]) == ("TOKEN-1", "ISO14443")
    assert (row["remote_start_id"], row["reservation_id"]) == (7, 3)
    assert row["active"] is False and row["stopped_reason"] == "EVDisconnected"
    assert (row["started_at"], row["ended_at"]) == (T0, T0 + timedelta(minutes=30))
    assert row["charging_state"] == "Idle" and row["anomaly"] is None
    assert row["energy_wh"] == Decimal(6000) and row["charging_seconds"] == 29 * 60
    assert row["event_count"] == 5 and row["last_seq_no"] == 4
    assert (row["tariff_id"], row["currency"], row["total_cost"]) == (
        "T-WHOLE",
        "EUR",
        Decimal("4.25"),
    )
    # an interval after the CSMS (not the station) saw it start
    assert row["next_cost_update_at"] == T0 + timedelta(hours=1, seconds=60)

    assert [e[0] for e in publisher.emitted] == [TOPIC_TRANSACTION_EVENTS] * 5
    assert {e[1] for e in publisher.emitted} == {sid}
    first, last = (orjson.loads(publisher.emitted[i][2]) for i in (0, 4))
    assert publisher.emitted[4][3] == {"type": "TransactionEnded", "station_id": sid}
    assert first["type"] == "TransactionStarted" and first["reservationId"] == 3
    # the 7.2 kW sample of seqNo 2, in W; events without a power sample carry null
    powers = [orjson.loads(e[2])["powerW"] for e in publisher.emitted]
    assert powers == [None, None, 7200.0, None, None]
    assert last == {
        "type": "TransactionEnded",
        "stationId": sid,
        "transactionId": tid,
        "seqNo": 4,
        "eventType": "Ended",
        "triggerReason": "EVDeparted",
        "timestamp": (T0 + timedelta(minutes=30)).isoformat(),
        "evseId": 1,
        "connectorId": 1,
        "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
        "remoteStartId": 7,
        "reservationId": 3,
        "active": False,
        "chargingState": "Idle",
        "stoppedReason": "EVDisconnected",
        "energyWh": 6000.0,
        "powerW": None,
        "totalCost": 4.25,
        "currency": "EUR",
        "startedAt": T0.isoformat(),
        "endedAt": (T0 + timedelta(minutes=30)).isoformat(),
    }


async def test_a_duplicate_changes_nothing_and_gets_the_same_answer(
    make_event, send, tx_row, publisher, sessionmaker, tariffs
):
    sid, tid = uid("CS"), uid()
    await tariffs("T-DUP", [sid], kwh="0.25")
    events = session_events(make_event, tid)
    for ev in events:
        await send(ev, sid)
    before = await tx_row(sid, tid)
    count = await meter_value_count(sessionmaker, sid)
    again = [await send(events[i], sid) for i in (0, 2, 4)]
    assert again == [{"idTokenInfo": {"status": "Unknown"}}, {}, {"totalCost": 1.5}]
    assert await tx_row(sid, tid) == before
    assert await meter_value_count(sessionmaker, sid) == count == 7
    # at-least-once: the duplicate is published again, with the same content
    assert len(publisher.emitted) == 8
    assert publisher.emitted[7][2] == publisher.emitted[4][2]


async def meter_value_count(sessionmaker, station_id: str) -> int:
    async with sessionmaker() as s:
        result = await s.exec(
            sa.text("select count(*) from transactions.meter_values where station_id = :s"),
            params={"s": station_id},
        )
        return result.scalar_one()


def _state(row: dict) -> dict:
    return {k: row[k] for k in STATE_COLUMNS}


async def test_any_arrival_order_gives_the_in_order_transaction(make_event, send, tx_row, tariffs):
    sid = uid("CS")
    await tariffs("T-ORDER", [sid], kwh="0.30", minute="0.05", session="1.00")
    in_order = uid()
    for ev in session_events(make_event, in_order):
        await send(ev, sid)
    expected = _state(await tx_row(sid, in_order))

    orders = [
        [0, 4, 3, 2, 1],  # Updated in reverse, all after the Ended
        [4, 3, 2, 1, 0],  # everything reversed: the Started comes last
        [0, 1, 4, 2, 3],  # offline updates after the Ended
        [2, 0, 4, 1, 3],
    ]
    for order in orders:
        tid = uid()
        events = session_events(make_event, tid)
        answers = [await send(events[i], sid) for i in order]
        assert _state(await tx_row(sid, tid)) == expected, order
        ended_answer = answers[order.index(4)]
        assert "totalCost" in ended_answer


async def test_every_permutation_of_a_short_session_folds_the_same(make_event, send, tx_row):
    sid = uid("CS")
    m = timedelta(minutes=1)

    def events(tid):
        return [
            make_event(tid, 0, "Started", T0, charging_state="Charging", wh=0, evse=(2, 1)),
            make_event(tid, 1, "Updated", T0 + 5 * m, charging_state="SuspendedEV", wh=500),
            make_event(tid, 2, "Updated", T0 + 8 * m, charging_state="Charging",
                       id_token="LATE", wh=600),
            make_event(tid, 3, "Ended", T0 + 12 * m, wh=1000, stopped_reason="Local"),
        ]  # fmt: skip

    tid = uid()
    for ev in events(tid):
        await send(ev, sid)
    expected = _state(await tx_row(sid, tid))
    assert expected["charging_seconds"] == 9 * 60 and expected["energy_wh"] == 1000
    assert expected["id_token"] == "LATE" and expected["charging_state"] == "Charging"
    for order in itertools.permutations(range(4)):
        tid = uid()
        evs = events(tid)
        for i in order:
            await send(evs[i], sid)
        assert _state(await tx_row(sid, tid)) == expected, order


async def test_unknown_transaction_is_stored_and_flagged_until_its_started_arrives(
    make_event, send, tx_row
):
    sid, tid = uid("CS"), uid()
    counted = (
        REGISTRY.get_sample_value("csms_transaction_anomalies_total", {"kind": "no_started"}) or 0.0
    )
    answer = await send(
        make_event(tid, 3, "Updated", T0 + timedelta(minutes=3), wh=100, evse=(1, 2)), sid
    )
    assert answer == {}
    row = await tx_row(sid, tid)
    assert row["anomaly"] == "no Started event received" and row["active"] is True
    assert (row["evse_id"], row["connector_id"], row["event_count"]) == (1, 2, 1)
    assert (
        REGISTRY.get_sample_value("csms_transaction_anomalies_total", {"kind": "no_started"})
        == counted + 1
    )
    await send(make_event(tid, 4, "Ended", T0 + timedelta(minutes=4), wh=200), sid)
    row = await tx_row(sid, tid)
    assert row["anomaly"] == "no Started event received" and row["active"] is False
    assert row["stopped_reason"] == "Local"  # OCPP: omitted only when the reason is Local

    await send(make_event(tid, 0, "Started", T0, wh=50, id_token="LATE-TOKEN"), sid)
    row = await tx_row(sid, tid)
    assert row["anomaly"] is None and row["started_at"] == T0
    assert row["energy_wh"] == Decimal(150) and row["id_token"] == "LATE-TOKEN"
    assert row["active"] is False and row["event_count"] == 3


async def test_station_tariff_else_default_else_none(make_event, send, tx_row, tariffs):
    a, b = uid("CS"), uid("CS")
    m = timedelta(minutes=1)

    async def run(sid):
        tid = uid()
        await send(make_event(tid, 0, "Started", T0, wh=0), sid)
        answer = await send(make_event(tid, 1, "Ended", T0 + 10 * m, wh=2000), sid)
        return tid, answer

    tid, answer = await run(a)  # no tariff at all
    assert answer == {}
    row = await tx_row(a, tid)
    assert (row["tariff_id"], row["total_cost"], row["next_cost_update_at"]) == (None,) * 3

    await tariffs("T-STATION", [a], kwh="0.40", currency="CHF")
    await tariffs("T-DEFAULT", [], default=True, minute="0.10")
    tid, answer = await run(a)
    assert answer == {"totalCost": 0.8}
    assert (await tx_row(a, tid))["currency"] == "CHF"
    # no chargingState ever reported: minutes = the session's duration
    tid, answer = await run(b)
    assert answer == {"totalCost": 1.0}
    assert (await tx_row(b, tid))["tariff_id"] == "T-DEFAULT"

    await tariffs("T-FREE", [b])
    tid, answer = await run(b)
    assert answer == {"totalCost": 0.0}

    # a tariff change does not reprice a session under way
    tid = uid()
    await send(make_event(tid, 0, "Started", T0, wh=0), a)
    await tariffs("T-STATION", [a], kwh="9.99", currency="CHF")
    answer = await send(make_event(tid, 1, "Ended", T0 + 10 * m, wh=2000), a)
    assert answer == {"totalCost": 0.8}


async def test_time_spent_charging_reported_by_the_station_wins(make_event, send, tx_row, tariffs):
    sid, tid = uid("CS"), uid()
    await tariffs("T-MIN", [sid], minute="1")
    m = timedelta(minutes=1)
    await send(make_event(tid, 0, "Started", T0, charging_state="Charging"), sid)
    await send(make_event(tid, 2, "Ended", T0 + 10 * m, time_spent_charging=120), sid)
    # seqNo 1 arrives late: its timeSpentCharging is older than the Ended's
    answer = await send(make_event(tid, 1, "Updated", T0 + 5 * m, time_spent_charging=60), sid)
    row = await tx_row(sid, tid)
    assert answer == {} and row["charging_seconds"] == 120 and row["total_cost"] == Decimal(2)


async def test_id_token_info_from_evdriver_tokens_and_concurrent_tx(make_event, send, sessionmaker):
    token = uid("TOK")
    async with sessionmaker() as s:
        await s.exec(
            sa.text(
                "insert into evdriver.id_tokens (id_token, type, status, allow_concurrent_tx,"
                " language1) values (:t, 'ISO14443', 'Accepted', false, 'nl')"
            ).bindparams(t=token)
        )
        await s.commit()
    a, b = uid("CS"), uid("CS")
    first = await send(make_event(uid(), 0, "Started", T0, id_token=token), a)
    assert first == {"idTokenInfo": {"status": "Accepted", "language1": "nl"}}
    tid = uid()
    second = await send(make_event(tid, 0, "Started", T0, id_token=token), b)
    assert second["idTokenInfo"]["status"] == "ConcurrentTx"
    central = await send(make_event(uid(), 0, "Started", T0, id_token="X", token_type="Central"), b)
    assert central == {"idTokenInfo": {"status": "Accepted"}}


async def test_a_batch_costs_the_same_statements_whatever_its_size(
    make_event, send_batch, engine, tariffs
):
    """A consumed batch of Updated events (each with 7 sampled values) for many transactions:
    the same statements for 2 transactions as for 40, and one commit."""
    samples = [
        {"value": v, "measurand": m, "phase": p}
        for v, m, p in [
            (230, "Voltage", "L1-N"),
            (231, "Voltage", "L2-N"),
            (229, "Voltage", "L3-N"),
            (16, "Current.Import", "L1"),
            (16, "Current.Import", "L2"),
            (16, "Current.Import", "L3"),
            (11000, "Power.Active.Import", None),
        ]
    ]
    samples = [{k: v for k, v in s.items() if v is not None} for s in samples]
    sync = engine.sync_engine

    async def measure(n: int) -> tuple[list[str], int, list]:
        sessions = [(uid("CS"), uid()) for _ in range(n)]
        for sid, _ in sessions:
            await tariffs(uid("T"), [sid], kwh="0.3")
        await send_batch(
            [
                (make_event(t, 0, "Started", T0, wh=0, charging_state="Charging"), s)
                for s, t in sessions
            ]
        )
        statements: list[str] = []
        commits: list[int] = []

        def on_execute(conn, cursor, statement, *args):
            statements.append(statement.split()[0].upper())

        def on_commit(conn):
            commits.append(1)

        sa.event.listen(sync, "before_cursor_execute", on_execute)
        sa.event.listen(sync, "commit", on_commit)
        try:
            batch = [
                (
                    make_event(
                        t,
                        seq,
                        "Updated",
                        T0 + timedelta(minutes=seq),
                        wh=500 * seq,
                        extra_samples=samples,
                    ),
                    s,
                )
                for seq in (1, 2)
                for s, t in sessions
            ]
            resps = await send_batch(batch + batch[:3])  # and a few duplicates in the same batch
        finally:
            sa.event.remove(sync, "before_cursor_execute", on_execute)
            sa.event.remove(sync, "commit", on_commit)
        return statements, len(commits), resps

    small, small_commits, _ = await measure(2)
    large, large_commits, resps = await measure(40)
    assert small == large and small_commits == large_commits == 1
    assert len(large) <= 2, large  # lock (with the known seqNos), then one flush
    assert len(resps) == 83


async def test_a_shuffled_session_with_duplicates_in_one_batch_folds_like_in_order(
    make_event, send, send_batch, tx_row, tariffs
):
    """One consumed batch holding a whole session out of order, each event twice, with other
    stations' sessions interleaved: the same transaction as the in-order session."""
    sid, other = uid("CS"), uid("CS")
    await tariffs("T-BATCH", [sid, other], kwh="0.30", minute="0.05", session="1.00")
    in_order = uid()
    for ev in session_events(make_event, in_order):
        await send(ev, sid)
    expected = _state(await tx_row(sid, in_order))

    tid, tid2 = uid(), uid()
    mine = session_events(make_event, tid)
    theirs = session_events(make_event, tid2)
    order = [3, 0, 4, 0, 2, 1, 4, 3, 2, 1]
    batch = [x for i in order for x in ((mine[i], sid), (theirs[i], other))]
    answers = await send_batch(batch)
    assert _state(await tx_row(sid, tid)) == expected
    assert _state(await tx_row(other, tid2)) == expected
    ended = [a for (ev, s), a in zip(batch, answers, strict=True) if s == sid and ev.seq_no == 4]
    # the first Ended knew only the events before it; its redelivery, after all: the whole cost
    assert len(ended) == 2 and ended[-1] == {"totalCost": 4.25}
