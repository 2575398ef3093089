"""OCPP 1.6 handlers of the reporting block, one module per 1.6 action: thin translations onto
the 2.0.1 domain. SecurityEventNotification, LogStatusNotification and GetLog (security
whitepaper) have the 2.0.1 shapes and run the 2.0.1 handlers on a 2.0.1 model of the same
message; GetDiagnostics / DiagnosticsStatusNotification (Firmware Management) are 1.6's logs:
a log request of type ``Diagnostics`` (keyed by its call, its requestId allocated by the CSMS)
and its status history, mapped onto the 2.0.1 upload statuses."""
