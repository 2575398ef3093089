"""One module per OCPP 1.6 action of the evdriver block: thin translations onto the 2.0.1
handlers and ports (``evdriver.tags16`` holds the data mapping)."""
