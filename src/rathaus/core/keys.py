"""How a citizen's phone number and e-mail address are compared, in every app: stored next to
the value as a lookup key, so a search, a cap or a thread finds the same person however the
number or address was typed."""

from __future__ import annotations

import re


def phone_key(phone: str) -> str:
    """Digits only, with a German country prefix reduced to the national form (0…)."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    elif digits.startswith("49") and phone.strip().startswith("+"):
        digits = "0" + digits[2:]
    return digits


def email_key(email: str) -> str:
    """Trimmed and in lower case."""
    return email.strip().lower()
