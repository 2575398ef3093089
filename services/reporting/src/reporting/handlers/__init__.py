"""One module per OCPP action handled by the reporting service."""
