"""Writes of streets, houses, flats and tariffs."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from housing.models import Flat, House, Street, Tariff, WaterMeter


@dataclass(frozen=True)
class FlatSpec:
    """A flat to create or resize. `meters` is how many meters a new flat gets."""

    number: int
    area: Decimal
    meters: int = 0


def _street(name: str) -> Street:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"street_name": [_("A street name is required.")]})
    street, _created = Street.objects.get_or_create(name=name)
    return street


def _check_flat_specs(flats: Sequence[FlatSpec]) -> None:
    numbers = [spec.number for spec in flats]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise ValidationError(
            {"flats": [_("Flat numbers repeat: %(numbers)s.") % {"numbers": duplicates}]}
        )


def new_serial() -> str:
    return f"AUTO-{uuid.uuid4().hex[:12].upper()}"


def _install_meters(flats: Sequence[tuple[Flat, int]], installed_on: date | None = None) -> None:
    WaterMeter.objects.bulk_create(
        WaterMeter(flat=flat, serial=new_serial(), installed_on=installed_on)
        for flat, count in flats
        for _n in range(count)
    )


def _upsert_flats(house: House, flats: Sequence[FlatSpec]) -> None:
    """Add the flats the house lacks and resize the ones it has; others stay as they are."""
    _check_flat_specs(flats)
    existing = {flat.number: flat for flat in Flat.objects.filter(house=house)}
    to_create, to_resize = [], []
    for spec in flats:
        flat = existing.get(spec.number)
        if flat is None:
            to_create.append((Flat(house=house, number=spec.number, area=spec.area), spec.meters))
        elif flat.area != spec.area:
            flat.area = spec.area
            to_resize.append(flat)
    Flat.objects.bulk_create(flat for flat, _ in to_create)
    Flat.objects.bulk_update(to_resize, ["area"])
    _install_meters([(flat, meters) for flat, meters in to_create])


def _save_house(house: House) -> None:
    try:
        with transaction.atomic():
            house.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "house_number": [
                    _("House %(number)s already exists on %(street)s.")
                    % {"number": house.number, "street": house.street.name}
                ]
            }
        ) from exc


@transaction.atomic
def create_house(*, street_name: str, number: int, flats: Sequence[FlatSpec] = ()) -> House:
    """Create a house (and its street when new) with its flats and their meters."""
    _check_flat_specs(flats)
    house = House(street=_street(street_name), number=number)
    _save_house(house)
    _upsert_flats(house, flats)
    return house


@transaction.atomic
def update_house(
    *,
    house: House,
    street_name: str | None = None,
    number: int | None = None,
    flats: Sequence[FlatSpec] | None = None,
) -> House:
    """Partial update: move the house to another street name (created when new), renumber it,
    add or resize flats. Flats not listed are left alone; other houses on the old street too."""
    house = House.objects.select_for_update().select_related("street").get(pk=house.pk)
    if street_name is not None and street_name.strip() != house.street.name:
        house.street = _street(street_name)
    if number is not None:
        house.number = number
    _save_house(house)
    if flats:
        _upsert_flats(house, flats)
    return house


@transaction.atomic
def delete_house(*, house: House) -> None:
    """Delete a house with its flats, meters, readings, tariffs, runs and charges."""
    house.delete()


@transaction.atomic
def create_flat(*, house: House, number: int, area: Decimal, meters: int = 0) -> Flat:
    """Add a flat to a house, with `meters` new meters installed today."""
    flat = Flat(house=house, number=number, area=area)
    try:
        with transaction.atomic():
            flat.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"number": [_("Flat %(number)s already exists in this house.") % {"number": number}]}
        ) from exc
    _install_meters([(flat, meters)])
    return flat


@transaction.atomic
def update_flat(*, flat: Flat, number: int | None = None, area: Decimal | None = None) -> Flat:
    """Renumber or resize a flat."""
    if number is not None:
        flat.number = number
    if area is not None:
        flat.area = area
    try:
        with transaction.atomic():
            flat.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"number": [_("Flat %(number)s already exists in this house.") % {"number": number}]}
        ) from exc
    return flat


def delete_flat(*, flat: Flat) -> None:
    """Delete a flat with its meters, readings and charges."""
    flat.delete()


def create_tariff(
    *, kind: str, price: Decimal, valid_from: date, house: House | None = None
) -> Tariff:
    """Set a price from a date on, globally or for one house."""
    return _save_tariff(Tariff(kind=kind, price=price, valid_from=valid_from, house=house))


def update_tariff(
    *, tariff: Tariff, price: Decimal | None = None, valid_from: date | None = None
) -> Tariff:
    """Correct a tariff's price or start date (runs already completed keep their prices)."""
    if price is not None:
        tariff.price = price
    if valid_from is not None:
        tariff.valid_from = valid_from
    return _save_tariff(tariff)


def _save_tariff(tariff: Tariff) -> Tariff:
    if tariff.price < 0:
        raise ValidationError({"price": [_("A price cannot be negative.")]})
    try:
        with transaction.atomic():
            tariff.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"valid_from": [_("A tariff of this kind and scope already starts on this date.")]}
        ) from exc
    return tariff


def delete_tariff(*, tariff: Tariff) -> None:
    """Delete a tariff."""
    tariff.delete()
