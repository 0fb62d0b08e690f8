"""What each import kind reads, checks and writes, a batch of rows at a time.

Every kind checks a row with the housing services' own rules (the reading rule of the meter
service, the registry's and tariffs' constraints and messages) and reports a failing row as a
row error with its column, never as an exception. Lookups are a few queries per batch, and
readings are written with one multi-row INSERT per batch (imports.sql).
"""

from imports.kinds.base import CREATED, UNCHANGED, UPDATED, Kind, Row, Staged
from imports.kinds.houses import Houses
from imports.kinds.readings import Readings
from imports.kinds.tariffs import Tariffs

KINDS: dict[str, Kind] = {kind.name: kind for kind in (Readings(), Houses(), Tariffs())}

__all__ = [
    "CREATED",
    "KINDS",
    "UNCHANGED",
    "UPDATED",
    "Houses",
    "Kind",
    "Readings",
    "Row",
    "Staged",
    "Tariffs",
]
