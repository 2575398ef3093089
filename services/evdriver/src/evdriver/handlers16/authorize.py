"""Authorize (1.6): the idTag's IdTagInfo, by the rules the 2.0.1 Authorize answers with.

The tag is looked up by its value whatever type an operator stored it under (ISO14443
first), through the shared ``IdTokens`` port (``info_16``); statuses 1.6 lacks (Unknown,
NoCredit, ...) are answered Invalid.
"""

from csms_runtime.clock import Clock
from csms_runtime.idtokens import IdTokens
from ocpp_schema.v16 import AuthorizeRequest, AuthorizeResponse
from ocpp_schema.v16.models.authorize import IdTagInfo


async def authorize_16(
    req: AuthorizeRequest, *, id_tokens: IdTokens, clock: Clock
) -> AuthorizeResponse:
    info = await id_tokens.info_16(req.id_tag, clock.now())
    return AuthorizeResponse(id_tag_info=IdTagInfo.model_validate(info))
