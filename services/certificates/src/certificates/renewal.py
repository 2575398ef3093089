"""The renewal sweep: station certificates expiring within CERTIFICATES_RENEW_BEFORE_DAYS
are renewed by asking the station for a new CSR (TriggerMessage
SignChargingStationCertificate, A02 triggered by the CSMS), once per certificate; a station
last connected with OCPP 1.6 is asked as the 1.6 security whitepaper asks it
(ExtendedTriggerMessage SignChargePointCertificate)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from csms_runtime import stations as station_registry
from csms_runtime.periodic import every

from certificates import store
from certificates.metrics import CERTIFICATES_EXPIRING
from certificates.settings import Settings

log = logging.getLogger(__name__)

TRIGGER = {"requestedMessage": "SignChargingStationCertificate"}
TRIGGER_16 = {"requestedMessage": "SignChargePointCertificate"}
OCPP16 = "ocpp1.6"


async def sweep(service: Any) -> list[tuple[str, str]]:
    """One round: claim what to renew (committed before any call leaves), ask each station,
    set the gauge. Returns the (serial, station id) claimed."""
    settings: Settings = service.settings
    now = service.clock.now()
    within = timedelta(days=settings.certificates_renew_before_days)
    windows = sorted({7.0, 30.0, float(settings.certificates_renew_before_days)})
    async with service.engine.begin() as conn:
        claimed = await store.claim_for_renewal(conn, now, within)
        expiring = {d: await store.count_expiring(conn, now, timedelta(days=d)) for d in windows}
    for days, count in expiring.items():  # 7 and 30 days for the dashboard and the alert
        CERTIFICATES_EXPIRING.labels(f"{days:g}").set(count)
    stations = sorted({sid for _, sid in claimed})
    if stations:
        log.info("asking stations to renew their certificates", extra={"stations": len(stations)})
        known = await station_registry.lookup(service.engine, stations)
        v16 = [s for s in stations if (st := known.get(s)) is not None and st.protocol == OCPP16]
        v201 = [s for s in stations if s not in v16]
        # Nobody here needs the answers (they go to the configuration block): don't wait.
        loop = asyncio.get_running_loop()
        tasks = []
        if v201:
            tasks.append(loop.create_task(service.calls.call_many(v201, "TriggerMessage", TRIGGER)))
        if v16:
            tasks.append(
                loop.create_task(
                    service.calls.call_many(
                        v16, "ExtendedTriggerMessage", TRIGGER_16, protocol="1.6"
                    )
                )
            )
        for task in tasks:
            service._background.add(task)
            task.add_done_callback(service._background.discard)
    return claimed


async def renewal(service: Any) -> None:
    settings: Settings = service.settings
    await every(settings.certificates_renewal_interval, lambda: sweep(service), name="renewal")
