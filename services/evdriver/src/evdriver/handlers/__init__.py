"""One module per OCPP action handled by the evdriver service."""
