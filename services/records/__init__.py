"""Read models more than one service reads: episodes and the children directory.

Intake writes the events they come from; triage and the notifier read them.
"""
