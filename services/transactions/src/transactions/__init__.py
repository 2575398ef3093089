"""The transactions service: the OCPP 2.0.1 transactions block.

Turns TransactionEvents into charging sessions (their state folded from events in seqNo
order, whatever order they arrive in; meter values; energy; cost under the tariff
snapshotted at the start) and publishes a domain event per event on
csms.events.transactions; stores MeterValues outside transactions and connector statuses
from StatusNotification; keeps tariffs; sends CostUpdated at an interval to the stations
whose device model (the monitoring service's) says they support it, and stops when a station
answers NotSupported or NotImplemented until its device model learns better. Its data API
lives under /data/transactions.
"""
