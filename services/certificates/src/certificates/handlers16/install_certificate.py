"""The station's answer to a 1.6 InstallCertificate: an accepted root joins its inventory,
a CentralSystemRootCertificate as the 2.0.1 CSMSRootCertificate."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import InstallCertificateRequest, InstallCertificateResponse

from certificates.handlers.install_certificate import install_certificate_answered
from certificates.handlers16 import CERTIFICATE_TYPE_201
from certificates.ports import Installed


async def install_certificate_answered_16(
    req: InstallCertificateRequest,
    resp: InstallCertificateResponse,
    *,
    station: StationRef,
    installed: Installed,
    received_at: datetime,
) -> None:
    await install_certificate_answered(
        v201.InstallCertificateRequest.model_validate(
            {
                "certificateType": CERTIFICATE_TYPE_201[str(req.certificate_type)],
                "certificate": req.certificate,
            }
        ),
        v201.InstallCertificateResponse.model_validate(resp.model_dump(by_alias=True)),
        station=station,
        installed=installed,
        received_at=received_at,
    )
