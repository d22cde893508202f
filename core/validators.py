"""Validators for codes the domain names by standard: ISO 3166-1 countries, ISO 4217 currencies."""

import pycountry
from django.core.exceptions import ValidationError


def validate_country(code: str) -> None:
    """ISO 3166-1 alpha-2, upper case (e.g. FR, NO)."""
    if not (len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code)):
        raise ValidationError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code.", code="invalid_country"
        )


def validate_currency(code: str) -> None:
    """ISO 4217 alphabetic code, upper case (e.g. EUR)."""
    if not (len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code)):
        raise ValidationError(
            f"{code!r} is not an ISO 4217 currency code.", code="invalid_currency"
        )
