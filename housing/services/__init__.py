"""Writes to the housing registry. Every public service validates and raises Django's
ValidationError (mapped to 400) before changing anything; multi-row writes are atomic."""

from housing.services.meters import (
    ReadingSpec,
    check_reading,
    create_meter,
    delete_meter,
    delete_reading,
    record_house_readings,
    record_readings,
    replace_meter,
    update_reading,
)
from housing.services.registry import (
    FlatSpec,
    create_flat,
    create_house,
    create_tariff,
    delete_flat,
    delete_house,
    delete_tariff,
    update_flat,
    update_house,
    update_tariff,
)

__all__ = [
    "FlatSpec",
    "ReadingSpec",
    "check_reading",
    "create_flat",
    "create_house",
    "create_meter",
    "create_tariff",
    "delete_flat",
    "delete_house",
    "delete_meter",
    "delete_reading",
    "delete_tariff",
    "record_house_readings",
    "record_readings",
    "replace_meter",
    "update_flat",
    "update_house",
    "update_reading",
    "update_tariff",
]
