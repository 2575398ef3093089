"""Prometheus metrics of the certificates service."""

from prometheus_client import Counter, Gauge

CERTIFICATES_EXPIRING = Gauge(
    "csms_certificates_expiring",
    "Issued station certificates (not revoked) expiring within 7 days, 30 days and the "
    "renewal window (CERTIFICATES_RENEW_BEFORE_DAYS)",
    ["within_days"],
)
CSR_TOTAL = Counter(
    "csms_csr_total",
    "SignCertificate requests by result and rejection reason",
    ["result", "reason"],
)
OCSP_REQUESTS = Counter(
    "csms_ocsp_requests_total", "GetCertificateStatus answers by result", ["result"]
)
