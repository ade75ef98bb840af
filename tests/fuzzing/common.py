"""What every part of the fuzzer shares."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
Params = dict[str, list[str]]  # a query or form: each key with its values
