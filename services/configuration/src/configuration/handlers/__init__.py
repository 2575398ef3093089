"""One module per OCPP action handled by the configuration service."""
