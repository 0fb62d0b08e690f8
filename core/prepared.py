"""A statement PREPAREd once per database connection, then EXECUTEd by name.

For a hot statement whose planning costs as much as its execution (billing's rent batch): the
text, written with Django's `%(name)s` placeholders, is rewritten once to PostgreSQL's `$n`
ones and prepared on each connection the first time it runs there. The names prepared are
remembered per raw (driver) connection, weakly, so a closed connection's entry goes with it
and its successor prepares again. PREPARE outlives a rollback, so it is sent on its own and
remembered only once it succeeded. Behind a transaction-pooling proxy (Django's
DISABLE_SERVER_SIDE_CURSORS) the next transaction may run on another server connection, so
the plain text is sent instead. PostgreSQL only.
"""

import hashlib
import re
import weakref
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# Without it, PostgreSQL plans the first five executions on each connection anew before it
# settles on the generic plan.
_GENERIC_PLAN = "SET LOCAL plan_cache_mode TO force_generic_plan;"

# raw connection -> names prepared on it
_prepared_on: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


class PreparedStatement:
    """`sql` with `%(name)s` placeholders; `types` gives each parameter's SQL type (PostgreSQL
    cannot infer all of them in a PREPARE). The name is `prefix` plus a digest of the text, so
    a changed text never meets an old preparation."""

    def __init__(
        self, *, prefix: str, sql: str, types: Mapping[str, str], generic_plan: bool = True
    ) -> None:
        self.sql = sql
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        body = _PLACEHOLDER.sub(number, sql)
        digest = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:12]
        self.name = f"{prefix}_{digest}"
        self.parameters = tuple(names)
        declared = ", ".join(types[name] for name in names)
        self.prepare_sql = f"PREPARE {self.name} ({declared}) AS {body}"
        arguments = ", ".join(f"%({name})s" for name in names)
        plan = _GENERIC_PLAN if generic_plan else ""
        self.execute_sql = f"{plan} EXECUTE {self.name}({arguments})"

    def execute(self, cursor: Any, params: Mapping[str, Any], *, before: str = "") -> None:
        """Run the statement on Django's `cursor` with `params`; `before` (e.g. a SET LOCAL)
        is sent in the same round trip."""
        db = cursor.db
        if db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
            cursor.execute(before + self.sql, params)
            return
        done = _prepared_on.setdefault(db.connection, set())
        if self.name not in done:
            cursor.execute(self.prepare_sql)
            done.add(self.name)
        cursor.execute(f"{before} {self.execute_sql}", params)
