"""Admin of the money ledger (imported by accounts.admin)."""
