"""NotifyEVChargingNeeds: an EV's needs on an EVSE a site feeds (ISO 15118).

Accepted when the EVSE is in a managed site and has an active session: the needs are kept
and the site's tree is marked dirty, so the allocator caps the session at the EV's maximum
current (AC: ``evMaxCurrent`` per phase; DC: ``evMaxPower``, in A per phase of the site),
raises its minimum to the EV's (``evMinCurrent``), and admits sessions that leave sooner
(``departureTime``) first when the site's minimums cannot all be covered. The new limit
reaches the station as a TxProfile through the allocation round, which keeps the site's
invariant (a limit sent straight from here could not). Processing when the EVSE is managed
but its session is not known yet (the TransactionEvent reaches another service): the needs
are kept and used once it is. Rejected when no site feeds the EVSE: nothing here can
schedule it.
"""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import NotifyEVChargingNeedsRequest, NotifyEVChargingNeedsResponse

from smartcharging.sites.ports import SiteLoads


def _positive(v: int | None) -> float | None:
    return float(v) if v is not None and v > 0 else None


async def notify_ev_charging_needs(
    req: NotifyEVChargingNeedsRequest,
    *,
    station: StationRef,
    site_loads: SiteLoads,
    received_at: datetime,
) -> NotifyEVChargingNeedsResponse:
    load = await site_loads.evse(station.id, req.evse_id)
    if load is None:
        return NotifyEVChargingNeedsResponse.model_validate(
            {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "NotManaged",
                    "additionalInfo": "no site of this CSMS feeds this EVSE",
                },
            }
        )
    needs = req.charging_needs
    ac, dc = needs.ac_charging_parameters, needs.dc_charging_parameters
    load.ev_min_a = _positive(ac.ev_min_current) if ac else None
    load.ev_max_a = _positive(ac.ev_max_current) if ac else None
    load.ev_max_w = _positive(dc.ev_max_power) if dc else None
    energy = ac.energy_amount if ac else dc.energy_amount if dc else None
    load.ev_energy_wh = float(energy) if energy is not None and energy >= 0 else None
    load.ev_departure = needs.departure_time
    load.ev_needs = needs.model_dump(by_alias=True, exclude_none=True, mode="json")
    load.ev_needs_at = received_at
    site_loads.save(load)
    if not load.active:
        return NotifyEVChargingNeedsResponse.model_validate(
            {
                "status": "Processing",
                "statusInfo": {
                    "reasonCode": "NoSession",
                    "additionalInfo": "kept; applied when the session on this EVSE starts",
                },
            }
        )
    site_loads.mark_dirty(load.root_id)
    return NotifyEVChargingNeedsResponse.model_validate({"status": "Accepted"})
