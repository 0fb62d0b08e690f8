"""A posting as one call of a PL/pgSQL function (accounts/balances/posting.py uses it).

Lock the accounts in id order (bounded by lock_timeout), decide on the locked rows, write the
balances and append the movement: one statement, so in autocommit the row locks live only
while it runs, instead of across BEGIN, lock, write and COMMIT sent from Python. SQLite (the
quick start) has no such function: posting.py runs the same steps there.
"""

from django.db import migrations

POST_MOVEMENT_SQL = """
CREATE OR REPLACE FUNCTION accounts_post_movement(
    p_user_id bigint, p_kind text, p_amount numeric, p_own_id bigint, p_debit_id bigint,
    p_credit_id bigint, p_other_id bigint, p_service_id bigint, p_comment text,
    p_max_balance numeric, p_lock_timeout_ms integer,
    OUT own_ok boolean, OUT other_ok boolean, OUT debit_balance numeric,
    OUT movement_id bigint, OUT created_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    locked record;
    owner_id bigint;
    credit_balance numeric;
    found_ids bigint[] := '{}';
BEGIN
    -- For this transaction only: a wait past it raises lock_not_available (the API's 503).
    PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
    -- Id order, as everywhere: crossing transfers queue instead of deadlocking. Each row is
    -- returned as locked (its newest version), so funds are judged on it.
    FOR locked IN
        SELECT id, user_id, balance FROM accounts_account
        WHERE id IN (p_debit_id, p_credit_id) ORDER BY id FOR UPDATE
    LOOP
        found_ids := found_ids || locked.id;
        IF locked.id = p_own_id THEN owner_id := locked.user_id; END IF;
        IF locked.id = p_debit_id THEN debit_balance := locked.balance; END IF;
        IF locked.id = p_credit_id THEN credit_balance := locked.balance; END IF;
    END LOOP;
    own_ok := owner_id IS NOT NULL AND owner_id = p_user_id;
    other_ok := p_other_id IS NULL OR p_other_id = ANY (found_ids);
    -- A refusal writes nothing: movement_id stays NULL and the caller says why.
    IF NOT (own_ok AND other_ok) THEN RETURN; END IF;
    IF p_debit_id IS NOT NULL AND debit_balance - p_amount < 0 THEN RETURN; END IF;
    IF p_credit_id IS NOT NULL AND credit_balance + p_amount > p_max_balance THEN RETURN; END IF;
    created_at := clock_timestamp();  -- once the locks are held: history follows commit order
    UPDATE accounts_account
        SET balance = CASE id WHEN p_debit_id THEN debit_balance - p_amount
                              ELSE credit_balance + p_amount END
        WHERE id IN (p_debit_id, p_credit_id);
    INSERT INTO accounts_movement
        (kind, debit_account_id, credit_account_id, amount, service_id, comment, created_at)
        VALUES (p_kind, p_debit_id, p_credit_id, p_amount, p_service_id, p_comment, created_at)
        RETURNING id INTO movement_id;
END;
$$;
"""

DROP_POST_MOVEMENT_SQL = """
DROP FUNCTION IF EXISTS accounts_post_movement(
    bigint, text, numeric, bigint, bigint, bigint, bigint, bigint, text, numeric, integer
);
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POST_MOVEMENT_SQL, params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_POST_MOVEMENT_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_movement_kind_rent"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
