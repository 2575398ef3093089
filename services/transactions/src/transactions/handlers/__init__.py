"""One module per OCPP action handled by the transactions service."""
