"""Site load management: sites (a tree of grid connections and feeders, each with a limit),
the EVSEs they feed, the sessions on them, and the allocation of each site's budget."""
