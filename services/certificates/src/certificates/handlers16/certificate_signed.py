"""The station's answer to a 1.6 CertificateSigned: the issued certificate is installed or
rejected, as for 2.0.1."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import CertificateSignedRequest, CertificateSignedResponse

from certificates.handlers.certificate_signed import (
    certificate_signed_answered,
    certificate_signed_failed,
)
from certificates.ports import Issued


def _as_201(req: CertificateSignedRequest) -> v201.CertificateSignedRequest:
    return v201.CertificateSignedRequest.model_validate(req.model_dump(by_alias=True))


async def certificate_signed_answered_16(
    req: CertificateSignedRequest,
    resp: CertificateSignedResponse,
    *,
    station: StationRef,
    issued: Issued,
    received_at: datetime,
) -> None:
    await certificate_signed_answered(
        _as_201(req),
        v201.CertificateSignedResponse.model_validate(resp.model_dump(by_alias=True)),
        station=station,
        issued=issued,
        received_at=received_at,
    )


async def certificate_signed_failed_16(
    req: CertificateSignedRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    issued: Issued,
    received_at: datetime,
) -> None:
    await certificate_signed_failed(
        _as_201(req), error, station=station, issued=issued, received_at=received_at
    )
