"""The evdriver service: the OCPP 2.0.1 evdriver block.

Owns the id tokens (``evdriver.id_tokens``, read by other services through
``csms_runtime.idtokens``) and answers Authorize with them; keeps each station's local
authorization list and its version from the answers to SendLocalList and
GetLocalListVersion; keeps reservations from ReserveNow/CancelReservation answers,
ReservationStatusUpdate, the transactions service's events (a reservation used by a
transaction) and a sweep that expires them. RequestStart/StopTransaction, UnlockConnector
and ClearCache go through the generated message API and the call log.

OCPP 1.6 (``handlers16``, ADR 0014): Authorize and the answers to ReserveNow,
CancelReservation, SendLocalList and GetLocalListVersion translate onto the same handlers,
tables and data API (``tags16``: an idTag is an ISO14443 IdToken, connector N is EVSE N,
connector 0 the station); RemoteStart/RemoteStopTransaction, UnlockConnector and ClearCache
go through the 1.6 message API and the call log.
"""
