"""Read models more than one service reads: episodes and the children's records.

Intake writes the events they come from; triage and the notifier read them.
"""
