"""The query filters of the list endpoints: what the schema says is what they accept.

django-filter's defaults answer 400 for an id of a row that does not exist (a valid integer) and
silently cut `1.5` to 1 for integer columns. Here an id filter is a plain integer comparison (no
such row: an empty page) and an integer column takes integers only.
"""

from typing import Any

import django_filters
from django import forms
from django.db import models
from django_filters import filterset
from django_filters.rest_framework import DjangoFilterBackend as BaseDjangoFilterBackend

BIGINT = 2**63 - 1


class StrictIntegerField(forms.IntegerField):
    """Digits only: Django's IntegerField also takes "5.0" (and "-93159873444839.0")."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and value.strip() and not value.strip().lstrip("-").isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IntegerFilter(django_filters.NumberFilter):  # type: ignore[misc]  # untyped library
    field_class = StrictIntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -BIGINT)
        kwargs.setdefault("max_value", BIGINT)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """`true`/`false` (or `1`/`0`), nothing else: django-filter's select widget turns any other
    value into "no filter" (`?dry_run=-58800` listed everything)."""

    widget = forms.TextInput

    # Null-able: None for no value, which the stubs' BooleanField.to_python does not allow.
    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        value = str(value).strip().lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):  # type: ignore[misc]  # untyped library
    field_class = StrictBooleanField


_INTEGER_COLUMNS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


class FilterSet(django_filters.FilterSet):  # type: ignore[misc]  # untyped library
    FILTER_DEFAULTS = {
        **filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        **{column: {"filter_class": IntegerFilter} for column in _INTEGER_COLUMNS},
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }

    @classmethod
    def filter_for_lookup(cls, field: "models.Field[Any, Any]", lookup_type: str) -> Any:
        # A foreign key filters like the column it points at (an integer or a UUID).
        if isinstance(field, models.ForeignKey) and lookup_type == "exact":
            return super().filter_for_lookup(field.target_field, lookup_type)
        return super().filter_for_lookup(field, lookup_type)


class DjangoFilterBackend(BaseDjangoFilterBackend):  # type: ignore[misc]  # untyped library
    filterset_base = FilterSet
