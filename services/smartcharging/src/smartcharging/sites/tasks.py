"""Background tasks of site load management."""

TASKS: list = []
