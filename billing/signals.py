"""Signals billing sends, so that other apps can follow rent runs without billing importing them."""

from django.dispatch import Signal

# Sent once by the execution that completes a rent run, inside the transaction that completes
# it (kwargs: run). Work outside the database belongs in transaction.on_commit.
rent_run_completed = Signal()
