"""Automatic call distribution: queues, agent states and the routing decision."""
