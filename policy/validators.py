import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_currency_code(value):
    if not value:
        return
    if value != value.upper() or pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError(
            _("“%(value)s” is not an ISO 4217 currency code, such as CNY or USD."),
            code="invalid_currency",
            params={"value": value},
        )


def validate_country_code(value):
    if value != value.upper() or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            _("“%(value)s” is not an ISO 3166-1 alpha-2 country code, such as BR or CN."),
            code="invalid_country",
            params={"value": value},
        )
