"""Authorize: the token's idTokenInfo, by the rules every service shares (csms_runtime.idtokens).

A request carrying an EV contract certificate (``certificate``) or its OCSP data
(``iso15118CertificateHashData``) is answered with ``certificateStatus``
``NoCertificateAvailable``: this CSMS has no trust anchors or OCSP access to verify contract
certificates yet (the certificates service has not landed), so it must not claim
``Accepted``; the other values (SignatureError, CertificateExpired, CertificateRevoked,
CertChainError, ContractCancelled) would each assert a check that was never made.
``NoCertificateAvailable`` is the one that says only what is true: no certificate to
validate against is available here. A station doing Plug & Charge treats any status other
than Accepted as a failed contract authorization.
"""

from csms_runtime.clock import Clock
from csms_runtime.idtokens import IdTokens
from ocpp_schema.v201 import AuthorizeRequest, AuthorizeResponse
from ocpp_schema.v201.models.authorize import AuthorizeCertificateStatusEnumType, IdTokenInfoType

UNVERIFIED_CERTIFICATE = AuthorizeCertificateStatusEnumType.NoCertificateAvailable


async def authorize(
    req: AuthorizeRequest, *, id_tokens: IdTokens, clock: Clock
) -> AuthorizeResponse:
    info = await id_tokens.info(req.id_token.id_token, str(req.id_token.type), clock.now())
    has_certificate = req.certificate is not None or bool(req.iso15118_certificate_hash_data)
    return AuthorizeResponse(
        id_token_info=IdTokenInfoType.model_validate(info),
        certificate_status=UNVERIFIED_CERTIFICATE if has_certificate else None,
    )
