"""Writes of meters and their readings: install, replace, record (one or a month's batch),
correct. Readings are cumulative: checks keep every meter's series rising."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from housing.models import QUANTITY_DECIMAL_PLACES, Flat, House, MeterReading, WaterMeter
from housing.periods import month_end, month_start, period_index, validate_month
from housing.services.registry import new_serial


@dataclass(frozen=True)
class ReadingSpec:
    """One reading of a month: the flat by number, its meter by serial when it has several."""

    flat_number: int
    value: Decimal
    serial: str | None = None


def _save_meter(meter: WaterMeter) -> WaterMeter:
    try:
        with transaction.atomic():
            meter.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"serial": [_("Serial %(serial)r is already in use.") % {"serial": meter.serial}]}
        ) from exc
    return meter


def create_meter(
    *,
    flat: Flat,
    serial: str | None = None,
    installed_on: date | None = None,
    initial_value: Decimal = Decimal(0),
) -> WaterMeter:
    """Install a meter in a flat (a serial is generated when none is given; no installation
    date means installed before any month on record)."""
    return _save_meter(
        WaterMeter(
            flat=flat,
            serial=(serial or "").strip() or new_serial(),
            installed_on=installed_on,
            initial_value=initial_value,
        )
    )


@transaction.atomic
def replace_meter(
    *,
    meter: WaterMeter,
    removed_on: date,
    final_value: Decimal | None = None,
    new_serial: str | None = None,
    new_initial_value: Decimal = Decimal(0),
) -> WaterMeter:
    """Record a meter replacement: the old meter's last reading (for the month it was removed,
    when given) closes it; the new meter counts from `new_initial_value`. Returns the new meter.
    """
    meter = WaterMeter.objects.select_for_update().get(pk=meter.pk)
    if meter.removed_on is not None:
        raise ValidationError(
            {"removed_on": [_("Meter %(serial)s was removed already.") % {"serial": meter.serial}]}
        )
    if meter.installed_on is not None and removed_on < meter.installed_on:
        raise ValidationError({"removed_on": [_("A meter cannot be removed before installation.")]})
    if removed_on > timezone.localdate():
        raise ValidationError({"removed_on": [_("The replacement date is in the future.")]})
    if final_value is not None:
        record_readings(
            entries=[(meter, final_value)], year=removed_on.year, month=removed_on.month
        )
    last_reading = meter.readings.order_by("-year", "-month").first()
    if last_reading and period_index(last_reading.year, last_reading.month) > period_index(
        removed_on.year, removed_on.month
    ):
        raise ValidationError({"removed_on": [_("The meter has readings after this date.")]})
    meter.removed_on = removed_on
    meter.save(update_fields=["removed_on"])
    return create_meter(
        flat=meter.flat,
        serial=new_serial,
        installed_on=removed_on,
        initial_value=new_initial_value,
    )


def _is_active(meter: WaterMeter, year: int, month: int) -> bool:
    return is_meter_active(
        installed_on=meter.installed_on, removed_on=meter.removed_on, year=year, month=month
    )


def reading_neighbours(
    meter_ids: Sequence[int], year: int, month: int, exclude_id: int | None = None
) -> dict[int, dict]:
    """Per meter: the highest earlier reading, the lowest later one, and this month's count
    (one query for any number of meters; bulk imports use it per batch)."""
    target = period_index(year, month)
    readings = MeterReading.objects.filter(meter_id__in=meter_ids)
    if exclude_id is not None:
        readings = readings.exclude(pk=exclude_id)
    rows = (
        readings.annotate(period=F("year") * 12 + F("month"))
        .values("meter_id")
        .annotate(
            earlier=Max("value", filter=Q(period__lt=target)),
            later=Min("value", filter=Q(period__gt=target)),
            same=Count("id", filter=Q(period=target)),
        )
    )
    return {row["meter_id"]: row for row in rows}


def is_meter_active(
    *, installed_on: date | None, removed_on: date | None, year: int, month: int
) -> bool:
    return (installed_on is None or installed_on <= month_end(year, month)) and (
        removed_on is None or removed_on >= month_start(year, month)
    )


def reading_error(
    meter: WaterMeter, value: Decimal, year: int, month: int, neighbours: dict
) -> str | None:
    """The rule a reading must pass, or why it fails. `neighbours` is the meter's row of
    reading_neighbours(): the same rule serves the API (one month's batch) and bulk imports."""
    earlier, later = neighbours.get("earlier"), neighbours.get("later")
    if value < 0:
        message = _("meter %(serial)s: a reading cannot be negative.")
    elif not _is_active(meter, year, month):
        message = _("meter %(serial)s is not installed in %(period)s.")
    elif neighbours.get("same"):
        message = _("meter %(serial)s already has a reading for %(period)s.")
    elif value < meter.initial_value:
        message = _("meter %(serial)s: %(value)s is below its initial value %(initial)s.")
    elif earlier is not None and value < earlier:
        message = _(
            "meter %(serial)s: %(value)s is below the earlier reading %(earlier)s "
            "(record a meter replacement if the meter was changed)."
        )
    elif later is not None and value > later:
        message = _("meter %(serial)s: %(value)s is above the later reading %(later)s.")
    else:
        return None
    # The names only for a failing reading: bulk imports call this for every row.
    return message % {
        "serial": meter.serial,
        "value": _quantity(value),
        "period": f"{year}-{month:02d}",
        "initial": _quantity(meter.initial_value),
        "earlier": _quantity(earlier),
        "later": _quantity(later),
    }


def _quantity(value: Decimal | None) -> str | None:
    """A reading as the database keeps it (12.500), also where SQLite's aggregates drop the
    trailing zeros (12.5)."""
    return None if value is None else f"{value:.{QUANTITY_DECIMAL_PLACES}f}"


def _check_readings(
    entries: Sequence[tuple[WaterMeter, Decimal]],
    year: int,
    month: int,
    exclude_id: int | None = None,
) -> None:
    validate_month(year, month)
    meter_ids = [meter.pk for meter, _value in entries]
    if len(set(meter_ids)) != len(meter_ids):
        raise ValidationError({"value": [_("Each meter takes one reading per month.")]})
    known = reading_neighbours(meter_ids, year, month, exclude_id)
    errors = []
    for meter, value in entries:
        error = reading_error(meter, value, year, month, known.get(meter.pk, {}))
        if error:
            errors.append(error)
    if errors:
        raise ValidationError({"value": errors})


def check_reading(
    *, meter: WaterMeter, year: int, month: int, value: Decimal, reading: MeterReading | None = None
) -> None:
    """Raise the ValidationError that recording (or, with `reading`, correcting) this value
    would raise, without writing: lets a form show it before it saves through the service."""
    _check_readings([(meter, value)], year, month, exclude_id=reading.pk if reading else None)


@transaction.atomic
def record_readings(
    *, entries: Sequence[tuple[WaterMeter, Decimal]], year: int, month: int
) -> list[MeterReading]:
    """Store one month's readings, all or none. A reading must not be below the meter's earlier
    readings nor above its later ones (cumulative dials only go up); a replaced meter starts a
    new series."""
    # Lock the meters (in id order) so two requests cannot interleave their checks.
    list(
        WaterMeter.objects.select_for_update()
        .filter(pk__in=[meter.pk for meter, _value in entries])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _check_readings(entries, year, month)
    try:
        with transaction.atomic():
            return MeterReading.objects.bulk_create(
                MeterReading(meter=meter, year=year, month=month, value=value)
                for meter, value in entries
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"value": [_("A reading for this month was just recorded.")]}
        ) from exc


@transaction.atomic
def update_reading(*, reading: MeterReading, value: Decimal) -> MeterReading:
    """Correct a reading's value, under the same rules as recording it."""
    meter = WaterMeter.objects.select_for_update().get(pk=reading.meter_id)
    _check_readings([(meter, value)], reading.year, reading.month, exclude_id=reading.pk)
    reading.value = value
    reading.save(update_fields=["value"])
    return reading


def delete_reading(*, reading: MeterReading) -> None:
    """Delete a reading (charges already calculated keep their values until recalculated)."""
    reading.delete()


def _meters_for(
    *, house: House, year: int, month: int, specs: Sequence[ReadingSpec]
) -> list[WaterMeter]:
    """Resolve each spec to a meter: by serial, else the flat's only active meter; a flat with
    no meter gets one installed on the month's first day; several meters need a serial."""
    numbers = {spec.flat_number for spec in specs}
    flats = {flat.number: flat for flat in Flat.objects.filter(house=house, number__in=numbers)}
    missing = sorted(numbers - flats.keys())
    if missing:
        raise ValidationError(
            {"flats": [_("No flat %(numbers)s in this house.") % {"numbers": missing}]}
        )
    active: dict[int, list[WaterMeter]] = {flat.pk: [] for flat in flats.values()}
    meters = WaterMeter.objects.filter(flat__in=flats.values()).order_by("pk")
    for meter in meters:
        if _is_active(meter, year, month):
            active[meter.flat_id].append(meter)
    by_serial = {meter.serial: meter for meter in meters}
    resolved: list[WaterMeter] = []
    to_install: list[WaterMeter] = []
    for spec in specs:
        flat = flats[spec.flat_number]
        flat_meters = active[flat.pk]
        if spec.serial:
            found = by_serial.get(spec.serial)
            if found is None or found.flat_id != flat.pk:
                raise ValidationError(
                    {
                        "serial": [
                            _("Flat %(flat)s has no meter %(serial)r.")
                            % {"flat": flat.number, "serial": spec.serial}
                        ]
                    }
                )
            meter = found
        elif len(flat_meters) == 1:
            meter = flat_meters[0]
        elif not flat_meters:
            meter = WaterMeter(
                flat=flat, serial=new_serial(), installed_on=month_start(year, month)
            )
            to_install.append(meter)
            flat_meters.append(meter)
        else:
            serials = ", ".join(m.serial for m in flat_meters)
            raise ValidationError(
                {
                    "serial": [
                        _("Flat %(flat)s has several meters (%(serials)s): give serial.")
                        % {"flat": flat.number, "serials": serials}
                    ]
                }
            )
        resolved.append(meter)
    WaterMeter.objects.bulk_create(to_install)
    return resolved


@transaction.atomic
def record_house_readings(
    *, house: House, year: int, month: int, readings: Sequence[ReadingSpec]
) -> list[MeterReading]:
    """Enter one month's readings for flats of a house (the way operators enter them), all or
    none."""
    validate_month(year, month)
    meters = _meters_for(house=house, year=year, month=month, specs=readings)
    return record_readings(
        entries=[(meter, spec.value) for meter, spec in zip(meters, readings, strict=True)],
        year=year,
        month=month,
    )


def delete_meter(*, meter: WaterMeter) -> None:
    """Delete a meter entered by mistake, with its readings (a replaced meter is closed with
    `replace_meter` instead, so that its history stays)."""
    meter.delete()
