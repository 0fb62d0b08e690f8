from housing.tests.conftest import resident, resident_client

__all__ = ["resident", "resident_client"]
