"""One module per OCPP action handled by the certificates service."""
