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
from certificates.handlers16.certificate_signed import (
    certificate_signed_answered_16,
    certificate_signed_failed_16,
)
from certificates.handlers16.delete_certificate import delete_certificate_answered_16
from certificates.handlers16.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered_16,
)
from certificates.handlers16.install_certificate import install_certificate_answered_16
from certificates.handlers16.sign_certificate import sign_certificate_16

V16 = "1.6"

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
        # OCPP 1.6 security whitepaper (handlers16: translations onto the same domain)
        route("SignCertificate", sign_certificate_16, protocol=V16),
        answered(
            "CertificateSigned",
            certificate_signed_answered_16,
            errors=certificate_signed_failed_16,
            protocol=V16,
        ),
        answered("InstallCertificate", install_certificate_answered_16, protocol=V16),
        answered("DeleteCertificate", delete_certificate_answered_16, protocol=V16),
        answered(
            "GetInstalledCertificateIds",
            get_installed_certificate_ids_answered_16,
            protocol=V16,
        ),
    ]
)
