"""OCPP 2.0.1 rules a SetChargingProfile must keep before it is sent (message API checks)."""

CHECKS: dict = {}
