"""The runtime every CSMS process shares.

Settings, the Kafka envelope and topic names, the per-service handler table and its
dispatcher, the outbound-call client with its call log, database engines and Alembic
glue, health, Prometheus metrics, OpenTelemetry tracing and structured logging. A block
service is a table of handlers plus data routes handed to ``service.create_service``;
the router uses the envelope, topics, telemetry and health pieces directly.
"""
