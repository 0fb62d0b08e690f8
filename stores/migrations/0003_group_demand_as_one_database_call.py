"""A group demand as one call of a PL/pgSQL function (stores/sql.py uses it).

Each line is the guarded decrement (`quantity >= n`) with its movement row, in the order given
(callers sort by item_id, the one lock order of the stores); if any line is short, every line
is rolled back and the short item ids are returned. One statement: in autocommit the row locks
live only while it runs, instead of across BEGIN, one statement per line and COMMIT sent from
Python. SQLite (the quick start) runs the same steps from Python.
"""

from django.db import migrations

TAKE_ALL_SQL = """
CREATE OR REPLACE FUNCTION stores_take_all(
    p_store_id bigint, p_item_ids text[], p_quantities bigint[], p_user_id bigint,
    p_request_id text, p_now timestamptz
) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    short text[] := '{}';
    changed_id bigint;
    after bigint;
BEGIN
    BEGIN
        FOR i IN 1 .. coalesce(array_length(p_item_ids, 1), 0) LOOP
            UPDATE stores_stockitem
                SET quantity = quantity - p_quantities[i], updated_at = p_now
                WHERE store_id = p_store_id AND item_id = p_item_ids[i]
                    AND quantity >= p_quantities[i]
                RETURNING id, quantity INTO changed_id, after;
            IF FOUND THEN
                INSERT INTO stores_stockmovement
                    (item_id, operation, delta, quantity_after, user_id, request_id, created_at)
                    VALUES (changed_id, 'demand', -p_quantities[i], after, p_user_id,
                            p_request_id, p_now);
            ELSE
                short := short || p_item_ids[i];
            END IF;
        END LOOP;
        IF cardinality(short) > 0 THEN
            -- Leave this block by an error: PostgreSQL undoes every line taken above.
            RAISE SQLSTATE 'SHORT';
        END IF;
    EXCEPTION WHEN SQLSTATE 'SHORT' THEN
        NULL;
    END;
    RETURN short;
END;
$$;
"""

DROP_TAKE_ALL_SQL = """
DROP FUNCTION IF EXISTS stores_take_all(bigint, text[], bigint[], bigint, text, timestamptz);
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TAKE_ALL_SQL, params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TAKE_ALL_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0002_verbose_names_and_translations"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
