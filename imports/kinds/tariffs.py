"""The tariffs kind: prices from a date on, globally or for one house."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from housing.models import House, Tariff
from housing.services import registry
from imports import formats
from imports.formats import CellError, Column
from imports.kinds.base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Kind,
    Row,
    errors_of,
    money,
    positive_int,
    text_key,
)
from imports.models import ImportJob

KIND_NAMES: dict[str, str] = {
    "water": Tariff.Kind.WATER,
    "вода": Tariff.Kind.WATER,
    "водоснабжение": Tariff.Kind.WATER,
    "upkeep": Tariff.Kind.UPKEEP,
    "содержание": Tariff.Kind.UPKEEP,
    "содержание общего имущества": Tariff.Kind.UPKEEP,
}
KIND_NAMES.update({label.lower(): value for value, label in Tariff.Kind.choices})


def _tariff_kind(value: object) -> str:
    kind = KIND_NAMES.get(formats.normalize_header(value))
    if kind is None:
        raise CellError(_("Not a tariff kind (water or upkeep)."))
    return kind


class Tariffs(Kind):
    """Prices from a date on, globally (street and house empty) or for one house."""

    name = "tariffs"
    columns = [
        Column("kind", "Вид", example="water", aliases=("tariff", "тариф", "вид тарифа")),
        Column("price", "Цена", example="45.50", aliases=("price rub", "тариф руб", "стоимость")),
        Column("valid_from", "Действует с", example="2024-01-01", aliases=("from", "с")),
        Column("street", "Улица", required=False, example="", aliases=("street name",)),
        Column("house", "Дом", required=False, example="", aliases=("house number",)),
    ]
    parsers = {
        "kind": _tariff_kind,
        "price": money,
        "valid_from": formats.day,
        "street": formats.text,
        "house": positive_int,
    }
    required_values = ("kind", "price", "valid_from")

    def check(self, job: ImportJob, rows: list[Row], *, write: bool) -> None:
        rows = [row for row in rows if not row.errors]
        addresses = {(r.values["street"], r.values["house"]) for r in rows if r.values["house"]}
        houses = {
            (street, number): pk
            for pk, street, number in House.objects.filter(
                street__name__in={a[0] for a in addresses}, number__in={a[1] for a in addresses}
            ).values_list("pk", "street__name", "number")
        }
        tariffs = {
            (t.kind, t.house_id, t.valid_from): t
            for t in Tariff.objects.filter(valid_from__in={r.values["valid_from"] for r in rows})
        }
        for row in rows:
            v = row.values
            house_id = None
            if bool(v["street"]) != bool(v["house"]):
                row.fail("house", _("Give both street and house for a house tariff, or neither."))
                continue
            if v["house"]:
                house_id = houses.get((v["street"], v["house"]))
                if house_id is None:
                    row.fail(
                        "house",
                        _("No house %(house)s on %(street)s.")
                        % {"house": v["house"], "street": v["street"]},
                    )
                    continue
            if v["price"] < 0:
                row.fail("price", _("A price cannot be negative."))
                continue
            existing = tariffs.get((v["kind"], house_id, v["valid_from"]))
            row.key = text_key(f"{v['kind']}|{house_id or ''}|{v['valid_from']}")
            row.action = (house_id, existing)
            if existing is None:
                row.outcome = CREATED
            else:
                row.outcome = UNCHANGED if existing.price == v["price"] else UPDATED

    def write(self, job: ImportJob, rows: list[Row]) -> None:
        for row in rows:
            house_id, existing = row.action
            try:
                if existing is None:
                    registry.create_tariff(
                        kind=row.values["kind"],
                        price=row.values["price"],
                        valid_from=row.values["valid_from"],
                        house=House(pk=house_id) if house_id else None,
                    )
                else:
                    registry.update_tariff(tariff=existing, price=row.values["price"])
            except ValidationError as exc:
                row.fail("price", " ".join(errors_of(exc)))
