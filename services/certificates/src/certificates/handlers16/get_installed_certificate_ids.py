"""The station's answer to a 1.6 GetInstalledCertificateIds: its inventory of the one asked
type, replacing what is known of that type, as 2.0.1's does. 1.6 asks for one type and lists
bare hash data; as 2.0.1 each entry carries the asked type (2.0.1 name), without children."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import GetInstalledCertificateIdsRequest, GetInstalledCertificateIdsResponse

from certificates.handlers.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered,
)
from certificates.handlers16 import CERTIFICATE_TYPE_201
from certificates.ports import Installed


async def get_installed_certificate_ids_answered_16(
    req: GetInstalledCertificateIdsRequest,
    resp: GetInstalledCertificateIdsResponse,
    *,
    station: StationRef,
    installed: Installed,
    received_at: datetime,
) -> None:
    kind = CERTIFICATE_TYPE_201[str(req.certificate_type)]
    chain = [
        {"certificateType": kind, "certificateHashData": h.model_dump(by_alias=True)}
        for h in resp.certificate_hash_data or []
    ]
    await get_installed_certificate_ids_answered(
        v201.GetInstalledCertificateIdsRequest.model_validate({"certificateType": [kind]}),
        v201.GetInstalledCertificateIdsResponse.model_validate(
            {"status": str(resp.status), **({"certificateHashDataChain": chain} if chain else {})}
        ),
        station=station,
        installed=installed,
        received_at=received_at,
    )
