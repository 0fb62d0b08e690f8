"""Hot single-row lookups whose SQL is compiled by the ORM once per process, not per request.

Compiling a queryset (`get_select`, quoting, lookups) costs more CPU than the round trip of
the query it produces: ~0.3 ms for a user by id, ~0.4 ms for a token with its user, on every
authenticated request. `CompiledLookup` lets the ORM build the SQL once (same columns, joins
and `select_related` as the queryset it is given), then runs that SQL through Django's cursor
(so query logging, `CaptureQueriesContext` and execute wrappers still see it) and builds the
instances the way `ModelIterable` does. Lookups whose columns need converters fall back to the
ORM, so a field type the shortcut does not handle can never be read wrongly.
"""

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Stand-in lookup values: the compiled parameters must hold exactly one of them.
TEXT_SENTINEL = "core.sqlcache.sentinel:7f3a9c"
INT_SENTINEL = -2_000_000_017


class CompiledLookup:
    """`make_queryset().filter(<field>=value)`, at most one row, with its SQL compiled once.

    `field` must be unique (a primary key, a token key, a store id): the first row is
    returned and `None` when there is none. `sentinel` is a value of the field's type that
    stands for the lookup value while compiling (`INT_SENTINEL` for integer keys).
    """

    def __init__(
        self,
        make_queryset: Callable[[], QuerySet],
        field: str,
        *,
        sentinel: str | int = TEXT_SENTINEL,
        using: str = "default",
    ):
        self._make_queryset = make_queryset
        self._field = field
        self._sentinel = sentinel
        self._using = using
        self._compiled: dict[str, Any] | None = None
        self._orm_only = False

    def get(self, value) -> Model | None:
        if self._orm_only:
            return self._orm_get(value)
        compiled = self._compiled or self._compile()
        if compiled is None:
            return self._orm_get(value)
        connection = connections[self._using]
        params = list(compiled["params"])
        # As the ORM's lookup does: int("7") for an integer key; ValueError for "x".
        params[compiled["index"]] = compiled["field"].get_db_prep_value(
            value, connection, prepared=False
        )
        with connection.cursor() as cursor:
            cursor.execute(compiled["sql"], params)
            row = cursor.fetchone()
        if row is None:
            return None
        start, end = compiled["model_slice"]
        obj = compiled["model"].from_db(self._using, compiled["init_list"], row[start:end])
        for populator in compiled["related_populators"]:
            populator.populate(row, obj)
        return obj

    def _orm_get(self, value) -> Model | None:
        return self._make_queryset().filter(**{self._field: value}).first()

    def _compile(self) -> dict[str, Any] | None:
        queryset = self._make_queryset().filter(**{self._field: self._sentinel})
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([column[0] for column in select])
        if params.count(self._sentinel) != 1 or converters or compiler.annotation_col_map:
            self._orm_only = True
            return None
        fields = klass_info["select_fields"]
        model_slice = (fields[0], fields[-1] + 1)
        self._compiled = {
            "sql": sql,
            "params": tuple(params),
            "index": list(params).index(self._sentinel),
            "model": queryset.model,
            "field": _field(queryset.model, self._field),
            "model_slice": model_slice,
            "init_list": [column[0].target.attname for column in select[slice(*model_slice)]],
            "related_populators": get_related_populators(klass_info, select, self._using),
        }
        return self._compiled


def _field(model, name: str):
    return model._meta.pk if name == "pk" else model._meta.get_field(name)
