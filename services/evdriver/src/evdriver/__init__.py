"""The evdriver service: the OCPP 2.0.1 evdriver block.

Owns the id tokens (``evdriver.id_tokens``, read by other services through
``csms_runtime.idtokens``) and answers Authorize with them; keeps each station's local
authorization list and its version from the answers to SendLocalList and
GetLocalListVersion; keeps reservations from ReserveNow/CancelReservation answers,
ReservationStatusUpdate, the transactions service's events (a reservation used by a
transaction) and a sweep that expires them. RequestStart/StopTransaction, UnlockConnector
and ClearCache go through the generated message API and the call log.
"""
