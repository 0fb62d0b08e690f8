"""Phone numbers are stored and compared in E.164 (`+79991234567`)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A number written without "+" (8 999 ..., 999 ...) is read as a number of this region.
DEFAULT_REGION = getattr(settings, "PHONE_DEFAULT_REGION", "RU")


def normalize_phone(raw: str) -> str:
    """The E.164 form of `raw`; ValidationError if it is not a valid, dialable number."""
    try:
        number = phonenumbers.parse(str(raw).strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter a phone number in international format, e.g. +79991234567."),
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This phone number does not exist; use international format, e.g. +79991234567."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
