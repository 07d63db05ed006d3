"""A council's past, brought when it adopts Lantern (``lantern history import``): its
children's periods of care, their missing episodes with the return interviews that
followed, and their Missing Family Group Conferences, recorded as the same events a
live episode makes, with their historical times, as history (events/history.py)."""
