"""The outbound dialer: freed slots offered to waitlisted patients by phone.

One module per concept: ``config`` (the policy settings), ``policy`` (the pure choice of
who to call next and when), and the I/O adapters around it.
"""
