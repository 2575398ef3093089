"""The station's answer to GetInstalledCertificateIds: its inventory of the asked types."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
)

from certificates.ca import HashData
from certificates.ports import Installed, InstalledCertificate


async def get_installed_certificate_ids_answered(
    req: GetInstalledCertificateIdsRequest,
    resp: GetInstalledCertificateIdsResponse,
    *,
    station: StationRef,
    installed: Installed,
    received_at: datetime,
) -> None:
    types = [str(t) for t in req.certificate_type] if req.certificate_type else None
    certs = [
        InstalledCertificate(
            station.id,
            str(c.certificate_type),
            HashData.of(c.certificate_hash_data),
            [
                h.model_dump(mode="json", by_alias=True, exclude_none=True)
                for h in c.child_certificate_hash_data or []
            ],
        )
        for c in resp.certificate_hash_data_chain or []
    ]
    if str(resp.status) in ("Accepted", "NotFound"):  # NotFound: none of those types
        await installed.replace(station.id, types, certs, received_at)
