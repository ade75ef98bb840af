"""Typed readers for environment settings that stop start-up with a clear message.

Every setting of Rathaus comes from an environment variable. A value that cannot be
read must stop the process at once and name the variable, instead of surfacing later
as a confusing error deep inside a request.
"""

from __future__ import annotations

import ipaddress
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingError(SystemExit):
    """Raised (as a clean exit, no traceback) when an environment variable is invalid."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"Rathaus: invalid setting {name}={value!r}: expected {expected}.")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(name, raw, "one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(name, raw, "a whole number") from None
    if minimum is not None and value < minimum:
        raise SettingError(name, raw, f"a whole number of at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(
    name: str, default: list[str]
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or networks (`10.0.0.0/24`), comma-separated; host bits set in a network are
    refused, since `10.0.0.5/24` may mean one address or the whole network."""
    items = env_list(name, default)
    try:
        return [ipaddress.ip_network(item) for item in items]
    except ValueError:
        raise SettingError(
            name, ",".join(items), "IP addresses or networks such as 10.0.0.0/24"
        ) from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise SettingError(name, value, "one of " + ", ".join(choices))
    return value


def env_timezone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(name, value, "an IANA time zone such as Europe/Berlin") from None
    return value
