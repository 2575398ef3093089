"""Station -> CSMS actions this service handles, and the answers to its calls it acts on."""

from csms_runtime.handlers import RouteTable, answered, route

from certificates.handlers.certificate_signed import (
    certificate_signed_answered,
    certificate_signed_failed,
)
from certificates.handlers.delete_certificate import delete_certificate_answered
from certificates.handlers.get15118_ev_certificate import get15118_ev_certificate
from certificates.handlers.get_certificate_status import get_certificate_status
from certificates.handlers.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered,
)
from certificates.handlers.install_certificate import install_certificate_answered
from certificates.handlers.sign_certificate import sign_certificate

ROUTES = RouteTable(
    [
        route("SignCertificate", sign_certificate),
        route("GetCertificateStatus", get_certificate_status),
        route("Get15118EVCertificate", get15118_ev_certificate),
        answered(
            "CertificateSigned", certificate_signed_answered, errors=certificate_signed_failed
        ),
        answered("InstallCertificate", install_certificate_answered),
        answered("DeleteCertificate", delete_certificate_answered),
        answered("GetInstalledCertificateIds", get_installed_certificate_ids_answered),
    ]
)
