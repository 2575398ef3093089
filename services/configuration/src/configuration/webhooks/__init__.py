"""Webhooks: operators' callbacks on station events, delivered from Kafka (never in the
router's path), at least once, signed, with retries and a dead-letter record."""
