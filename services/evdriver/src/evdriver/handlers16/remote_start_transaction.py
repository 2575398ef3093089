"""RemoteStartTransaction (1.6): what the message API checks before sending it.

The answer needs no row, as RequestStartTransaction's does not: the call log keeps it, and
the session the station then starts reaches the transactions service as StartTransaction.
1.6 has no ``remoteStartId``, so that session does not name the call that asked for it.
A ``chargingProfile`` in the call is the session's TxProfile, sent to the station and kept
in the call log only (as 2.0.1's is): smartcharging learns of it from neither.

``check`` refuses what OCPP 1.6 (5.11) forbids and the schema cannot say: a
``connectorId`` that is not a connector (it SHALL be > 0), and a ``chargingProfile`` whose
purpose is not ``TxProfile``.
"""

from typing import Any

from csms_runtime.message_api import Refused


async def check(payload: dict[str, Any], station_ids: list[str], engine: Any) -> None:
    connector_id = payload.get("connectorId")
    if connector_id is not None and connector_id < 1:
        raise Refused(
            "ConnectorIdPositive",
            "connectorId names a connector (1 on); leave it out to let the station choose",
            "connectorId",
        )
    profile = payload.get("chargingProfile")
    if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
        raise Refused(
            "RemoteStartTxProfile",
            "the charging profile of a remote start is a TxProfile",
            "chargingProfile.chargingProfilePurpose",
        )
