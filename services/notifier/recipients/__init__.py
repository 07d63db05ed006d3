"""The recipients directory: who the notifier tells in each routing role.

Entries are RecipientRecorded and RecipientRemoved events; the `recipients` table is
kept from them, and load_directory turns it into routing's Directory.
"""
