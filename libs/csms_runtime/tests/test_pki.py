"""csms_runtime.pki: a CA, what it issues and signs, and that TLS accepts it."""

import asyncio
import ssl

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from csms_runtime import pki


def test_a_csr_signed_by_the_ca_names_the_station_and_chains_to_it():
    ca = pki.make_ca("CSMS test CA", organization="CSMS")
    key = pki.new_key()
    csr = x509.load_pem_x509_csr(pki.make_csr(key, "CS-1", "CSMS").encode())
    assert csr.is_signature_valid
    cert = ca.sign_csr(csr, days=30)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    cert.verify_directly_issued_by(ca.cert)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert pki.serial_hex(cert) == format(cert.serial_number, "x")
    assert isinstance(pki.new_key("ec384").curve, ec.SECP384R1)


async def test_mutual_tls_with_what_the_ca_issues(tmp_path):
    ca = pki.make_ca("CSMS test CA")
    files = {}
    for role, kw in (("server", {"server_names": ["127.0.0.1", "localhost"], "client": False}),
                     ("client", {})):  # fmt: skip
        key = pki.new_key()
        cert = ca.issue(key.public_key(), pki.name(f"CS-{role}"), **kw)
        (tmp_path / f"{role}.pem").write_text(pki.cert_pem(cert) + pki.key_pem(key))
        files[role] = str(tmp_path / f"{role}.pem")
    (tmp_path / "ca.pem").write_text(pki.cert_pem(ca.cert))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tmp_path / "ca.pem")
    server_ctx.load_cert_chain(files["server"])
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    seen = []

    async def on_client(reader, writer):
        seen.append(writer.get_extra_info("peercert")["subject"])
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    client_ctx = ssl.create_default_context(cafile=tmp_path / "ca.pem")
    client_ctx.load_cert_chain(files["client"])
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
    await asyncio.sleep(0.1)
    writer.close()
    server.close()
    assert seen == [((("commonName", "CS-client"),),)]
