"""OCPP 1.6 (security whitepaper) handlers of the certificates block, one module per action:
thin translations onto the 2.0.1 domain. SignCertificate is the ChargingStationCertificate
path (1.6 has no certificateType) and its CertificateSigned goes out as a 1.6 call; the
answers of CertificateSigned, InstallCertificate, DeleteCertificate and
GetInstalledCertificateIds run the 2.0.1 answer handlers on 2.0.1 models of the same messages,
with 1.6's certificate types named as 2.0.1 names them (``CERTIFICATE_TYPE_201``)."""

CERTIFICATE_TYPE_201 = {
    "CentralSystemRootCertificate": "CSMSRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}
"""1.6 CertificateUseEnumType -> 2.0.1 InstallCertificateUse / GetCertificateIdUse."""
