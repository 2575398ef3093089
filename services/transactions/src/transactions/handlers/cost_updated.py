"""CostUpdated answered with a CALLERROR: a station that does not support CostUpdated
(NotSupported, NotImplemented) gets no more of them until its device model says again that
it does (``store.cost_update_support``). Any other error (GenericError, InternalError, a
FormatViolation the router found in the answer) says nothing about support: updates go on.
"""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import CostUpdatedRequest

from transactions.ports import CostUpdateRefusals

REFUSALS = frozenset({"NotSupported", "NotImplemented"})


async def cost_updated_refused(
    req: CostUpdatedRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    received_at: datetime,
    cost_update_refusals: CostUpdateRefusals,
) -> None:
    code = error.get("code")
    if code in REFUSALS:
        await cost_update_refusals.record(station.id, code=code, at=received_at)
