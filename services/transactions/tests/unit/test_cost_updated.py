"""CostUpdated answered with a CALLERROR, on the in-memory refusals port."""

from datetime import UTC, datetime, timedelta

import pytest
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import CostUpdatedRequest
from transactions.handlers.cost_updated import cost_updated_refused
from transactions.ports import InMemoryCostUpdateRefusals
from transactions.routes import ROUTES

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
REQ = CostUpdatedRequest.model_validate({"totalCost": 1.5, "transactionId": "TX-1"})


def error(code: str) -> dict:
    return {"code": code, "description": "", "details": {}}


async def answer(refusals: InMemoryCostUpdateRefusals, code: str, at: datetime, sid="CS-1"):
    return await cost_updated_refused(
        REQ, error(code), station=StationRef(sid), received_at=at, cost_update_refusals=refusals
    )


@pytest.mark.parametrize("code", ["NotSupported", "NotImplemented"])
async def test_not_supported_or_not_implemented_is_a_refusal(code):
    refusals = InMemoryCostUpdateRefusals()
    assert await answer(refusals, code, T0) is None
    assert refusals.rows == {"CS-1": (code, T0)}


@pytest.mark.parametrize(
    "code",
    ["GenericError", "InternalError", "FormatViolation", "SecurityError", "RpcFrameworkError"],
)
async def test_other_errors_are_no_refusal(code):
    refusals = InMemoryCostUpdateRefusals()
    await answer(refusals, code, T0)
    assert refusals.rows == {}


async def test_an_error_without_a_code_is_no_refusal():
    refusals = InMemoryCostUpdateRefusals()
    await cost_updated_refused(
        REQ, {}, station=StationRef("CS-1"), received_at=T0, cost_update_refusals=refusals
    )
    assert refusals.rows == {}


async def test_the_latest_refusal_stands_and_a_redelivered_older_one_does_not_move_it():
    refusals = InMemoryCostUpdateRefusals()
    later = T0 + timedelta(hours=1)
    await answer(refusals, "NotSupported", T0)
    await answer(refusals, "NotImplemented", later)
    await answer(refusals, "NotSupported", T0)  # redelivered
    await answer(refusals, "NotSupported", T0, sid="CS-2")
    assert refusals.rows == {"CS-1": ("NotImplemented", later), "CS-2": ("NotSupported", T0)}


def test_the_route_table_sends_cost_updated_errors_to_the_handler():
    r = ROUTES.answer("CostUpdated")
    assert r is not None and r.errors is cost_updated_refused and r.handler is None
    assert set(r.error_ports) == {"station", "received_at", "cost_update_refusals"}
