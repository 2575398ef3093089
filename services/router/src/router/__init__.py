"""The router: a stateless OCPP-J websocket gateway.

Accepts charging stations on one listener per security profile, checks identity,
subprotocol and Basic auth, validates every frame against the official JSON schema
(answering bad ones with the right CALLERROR at once), publishes station frames to
``ocpp.in.<block>`` keyed by station id (the payload as the station wrote it), and delivers
replies (``ocpp.out.<gateway id>``) and CSMS-initiated calls (``ocpp.out.calls``) to the
station's socket, one call in flight per direction (a station's early calls wait in a short
queue). Connection events, and every few seconds a gateway announcement naming the stations
heard from, go to ``ocpp.connections``.

Profiles 2 (TLS + Basic) and 3 (mutual TLS, or a trusted proxy's forwarded certificate) run
when the TLS files are set (``tls``, ``client_cert``); no station connects below the profile
the registry holds for it; refused handshakes become rate-bounded security events on
``ocpp.in.reporting`` (``security_events``); a ``StationCommand`` "disconnect" on
``ocpp.out.calls`` closes the station's socket.
"""
