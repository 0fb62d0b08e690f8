from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared infrastructure"

    def ready(self):
        from core import openapi  # noqa: F401  (registers the schema extensions)

        _strict_json_scalars()


def _strict_json_scalars() -> None:
    """Text fields take strings and boolean fields booleans, as the OpenAPI schema says.

    DRF's own fields turn a JSON number into text (`{"street_name": 0}` -> "0") and 0/1 into
    booleans. Query strings and form fields are strings anyway and parse as before
    (`?recalculate=true`, `flags=1`).
    """
    from rest_framework import fields

    if getattr(fields.CharField, "_strict_json", False):
        return
    text_to_internal = fields.CharField.to_internal_value
    bool_to_internal = fields.BooleanField.to_internal_value

    def text(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return text_to_internal(self, data)

    def boolean(self, data):
        if isinstance(data, int | float) and not isinstance(data, bool):
            self.fail("invalid", input=data)
        return bool_to_internal(self, data)

    fields.CharField.to_internal_value = text
    fields.BooleanField.to_internal_value = boolean
    fields.DecimalField.to_internal_value = _decimal(fields.DecimalField.to_internal_value)
    fields.CharField._strict_json = True


def _decimal(to_internal_value):
    """A JSON number that is a float's rendering of a value on the field's grid (0.1 * 3 is
    0.30000000000000004) counts as that value, so `multipleOf: 0.01` in the schema holds."""
    import math
    from decimal import ROUND_HALF_EVEN, Decimal, DecimalException

    def decimal(self, data):
        if isinstance(data, float) and math.isfinite(data) and self.decimal_places is not None:
            try:
                step = Decimal(1).scaleb(-self.decimal_places)
                grid = Decimal(repr(data)).quantize(step, rounding=ROUND_HALF_EVEN)
            except DecimalException:
                grid = None
            # Within a few units in the last place of the double: float noise, not a digit.
            if grid is not None and abs(float(grid) - data) <= 4 * math.ulp(data):
                data = str(grid)
        return to_internal_value(self, data)

    return decimal
