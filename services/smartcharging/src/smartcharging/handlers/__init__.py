"""One module per OCPP action handled by the smartcharging service."""
