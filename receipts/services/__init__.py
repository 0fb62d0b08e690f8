"""Receipts business logic: ingestion (producer side), consumption and rollups (consumer side)."""
