"""Side topics site load management follows."""

SUBSCRIPTIONS: list = []
