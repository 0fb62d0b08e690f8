"""Residents' raw SQL: a batch of notices as one INSERT ... SELECT.

The statement is the same text on PostgreSQL and SQLite (both have ON CONFLICT DO NOTHING and
`||`), so it has no twin. Table names come from the models, values travel as parameters.
"""

import re

from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing.models import Charge
from housing.models import Flat
from residents.models import Notification, Residency

_FLAT, _TOTAL = "\x00flat\x00", "\x00total\x00"


def notice_text_sql(template: str, **values) -> tuple[str, list[str]]:
    """The notice text as an SQL expression: the template's literal pieces as parameters, the
    flat number and the total from the row (in whatever order the translation puts them)."""
    text = template % {**values, "flat": _FLAT, "total": _TOTAL}
    columns = {_FLAT: "CAST(f.number AS TEXT)", _TOTAL: "CAST(c.total AS TEXT)"}
    parts, params = [], []
    for piece in re.split(f"({re.escape(_FLAT)}|{re.escape(_TOTAL)})", text):
        if piece in columns:
            parts.append(columns[piece])
        elif piece:
            parts.append("%s")
            params.append(piece)
    return " || ".join(parts) or "''", params


def insert_notices_statement(text_sql: str, *, correction: bool) -> str:
    has_phone = "u.phone IS NOT NULL AND u.phone <> ''"
    changed = ""
    if correction:
        # Only residents whose last notice of the month named another total.
        changed = (
            f"AND COALESCE((SELECT n.amount FROM {Notification._meta.db_table} n "
            "WHERE n.user_id = r.user_id AND n.flat_id = c.flat_id AND n.year = c.year "
            "AND n.month = c.month AND n.kind IN ('rent', 'correction') "
            "ORDER BY n.id DESC LIMIT 1), -1) <> c.total "
        )
    return (
        f"INSERT INTO {Notification._meta.db_table} (user_id, flat_id, year, month, kind, "
        "version, channel, address, amount, text, status, attempts, error, created_at) "
        "SELECT r.user_id, c.flat_id, c.year, c.month, %s, %s, "
        f"CASE WHEN {has_phone} THEN 'sms' ELSE 'email' END, "
        f"CASE WHEN {has_phone} THEN u.phone ELSE u.email END, "
        f"c.total, {text_sql}, 'pending', 0, '', %s "
        f"FROM {Charge._meta.db_table} c "
        f"JOIN {Flat._meta.db_table} f ON f.id = c.flat_id "
        f"JOIN {Residency._meta.db_table} r ON r.flat_id = c.flat_id "
        f"JOIN {User._meta.db_table} u ON u.id = r.user_id "
        "WHERE c.house_id = %s AND c.year = %s AND c.month = %s "
        "AND c.flat_id > %s AND c.flat_id <= %s "
        f"AND (({has_phone}) OR u.email <> '') {changed}"
        "ORDER BY c.flat_id, r.user_id "
        "ON CONFLICT DO NOTHING"
    )


def insert_notices(
    statement: str,
    *,
    kind: str,
    version: str,
    text_params: list[str],
    house_id: int,
    year: int,
    month: int,
    after_flat_id: int,
    last_flat_id: int,
) -> None:
    """Queue the notices of the charged flats after_flat_id < id <= last_flat_id."""
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [
                kind,
                version,
                *text_params,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                house_id,
                year,
                month,
                after_flat_id,
                last_flat_id,
            ],
        )
