"""R1: the fields every request form asks for, around the request type's own.

Every form names its server token (optional on general requests), the customer's name or
reference and email address, and ends with the acceptance of the conditions and the License
Agreement. The page links both documents beside that box.
"""

from __future__ import annotations

from ticketbridge.forms.fields import FieldType, FormField, FormSpec
from ticketbridge.position import Position

TOKEN_HELP = "you find it as Admin in Settings → License: 8 to 128 letters, digits, '-' or '_'"
ACCEPT_CONDITIONS = "accept_conditions"
_HERE = Position("ticketbridge/forms/common.py", 0, 0)


def _token(spec: FormSpec) -> FormField:
    return FormField(
        "token",
        spec.token_label or "License token",
        FieldType.TOKEN,
        _HERE,
        required=spec.token_required,
        help=TOKEN_HELP,
    )


CUSTOMER_NAME = FormField(
    "customer_name", "Customer name / reference", FieldType.TEXT, _HERE, required=True
)
CUSTOMER_EMAIL = FormField(
    "customer_email", "Customer email address", FieldType.EMAIL, _HERE, required=True
)
CONDITIONS = FormField(
    ACCEPT_CONDITIONS,
    "I have read how the license portal self-service works and accept the conditions and the "
    "License Agreement",
    FieldType.BOOLEAN,
    _HERE,
    required=True,
    required_message="the conditions and the License Agreement must be accepted to send a request",
)
COMMON_FIELD_NAMES = ("token", CUSTOMER_NAME.name, CUSTOMER_EMAIL.name, CONDITIONS.name)


def all_fields(spec: FormSpec) -> tuple[FormField, ...]:
    """The form as the customer fills it in, in page order."""
    return (_token(spec), CUSTOMER_NAME, CUSTOMER_EMAIL, *spec.fields, CONDITIONS)
