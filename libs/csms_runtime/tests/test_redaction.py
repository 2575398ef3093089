"""Station passwords are kept out of the call log and webhooks."""

from csms_runtime.redaction import REDACTED, redacted


def test_a_1_6_authorization_key_is_redacted_in_any_case():
    body = {"key": "authorizationKEY", "value": "s3cret-s3cret-s3cret"}
    assert redacted("ChangeConfiguration", body) == {"key": "authorizationKEY", "value": REDACTED}
    assert body["value"] == "s3cret-s3cret-s3cret"  # the payload sent is untouched
    other = {"key": "HeartbeatInterval", "value": "60"}
    assert redacted("ChangeConfiguration", other) is other


def test_a_2_0_1_basic_auth_password_is_redacted_and_the_rest_kept():
    keep = {
        "attributeValue": "60",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    secret = {
        "attributeValue": "pw-pw-pw-pw-pw-pw",
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }
    out = redacted("SetVariables", {"setVariableData": [keep, secret]})
    assert out == {"setVariableData": [keep, {**secret, "attributeValue": REDACTED}]}
    assert secret["attributeValue"] == "pw-pw-pw-pw-pw-pw"
    assert redacted("SetVariables", {"setVariableData": [keep]}) == {"setVariableData": [keep]}
    assert redacted("Reset", {"type": "Immediate"}) == {"type": "Immediate"}
    assert redacted("SetVariables", None) is None
