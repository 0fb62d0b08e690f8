from housing.tests.conftest import operator, operator_client, resident, resident_client

__all__ = ["operator", "operator_client", "resident", "resident_client"]
