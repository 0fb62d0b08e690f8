"""core.prepared: one PREPARE per connection, EXECUTE by name, plain text behind a pooler."""

import pytest
from django.db import connection, transaction

from core.prepared import PreparedStatement

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SQL = "SELECT %(a)s + %(b)s * %(a)s AS value, %(label)s AS label"
TYPES = {"a": "integer", "b": "integer", "label": "text"}


def prepared_names(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE %s", [prefix + "%"])
        return [name for (name,) in cursor.fetchall()]


def run(statement: PreparedStatement, **params) -> tuple:
    with transaction.atomic(), connection.cursor() as cursor:
        statement.execute(cursor, params)
        return cursor.fetchone()


def test_placeholders_are_numbered_once_per_name_in_order_of_appearance():
    statement = PreparedStatement(prefix="core_test_numbering", sql=SQL, types=TYPES)
    assert statement.parameters == ("a", "b", "label")
    assert statement.prepare_sql.startswith(
        f"PREPARE {statement.name} (integer, integer, text) AS SELECT $1 + $2 * $1"
    )
    assert statement.name.startswith("core_test_numbering_")


def test_a_changed_text_gets_another_name():
    one = PreparedStatement(prefix="core_test_name", sql=SQL, types=TYPES)
    other = PreparedStatement(prefix="core_test_name", sql=SQL + " -- changed", types=TYPES)
    assert one.name != other.name


def test_prepared_once_per_connection_and_again_on_a_new_one():
    statement = PreparedStatement(prefix="core_test_once", sql=SQL, types=TYPES)
    connection.close()
    assert run(statement, a=2, b=3, label="x") == (8, "x")
    assert run(statement, a=1, b=1, label="y") == (2, "y")
    assert prepared_names("core_test_once") == [statement.name]

    connection.close()  # the new connection has no prepared statements
    assert prepared_names("core_test_once") == []
    assert run(statement, a=0, b=5, label="z") == (0, "z")
    assert prepared_names("core_test_once") == [statement.name]


def test_a_failed_execution_after_preparing_leaves_it_prepared_and_usable():
    statement = PreparedStatement(
        prefix="core_test_fail", sql="SELECT 10 / %(d)s AS q", types={"d": "integer"}
    )
    connection.close()
    with pytest.raises(Exception, match="division by zero"):
        run(statement, d=0)
    # PREPARE outlived the rolled-back transaction and is remembered: EXECUTE works.
    assert run(statement, d=5) == (2,)
    assert prepared_names("core_test_fail") == [statement.name]


def test_a_failed_prepare_is_not_remembered():
    bad = PreparedStatement(
        prefix="core_test_bad", sql="SELECT %(x)s FROM no_such_table", types={"x": "integer"}
    )
    connection.close()
    for _ in range(2):  # prepared again (and failing again), never EXECUTEd unprepared
        with pytest.raises(Exception, match="no_such_table"):
            run(bad, x=1)


def test_behind_a_transaction_pooler_the_plain_text_is_sent(monkeypatch):
    statement = PreparedStatement(prefix="core_test_pooler", sql=SQL, types=TYPES)
    connection.close()
    connection.ensure_connection()
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    assert run(statement, a=2, b=2, label="p") == (6, "p")
    assert prepared_names("core_test_pooler") == []
