"""OCPP 1.6J handlers of the configuration service, one module per action: thin
translations onto the 2.0.1 domain. Each builds the 2.0.1 facts (often the 2.0.1 request
itself), runs the same handler or port the 2.0.1 action uses, and answers in 1.6: a 1.6 boot
is the same station row and boot path, a 1.6 firmware update the same tracking row, a 1.6
DataTransfer the same stored record and event."""
