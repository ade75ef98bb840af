"""Readable names of event activities for the history tables. The event log keeps the stable
English names (they are the process-mining log); each app registers how staff read its
activities in its `AppConfig.ready()`. An activity without a label shows its name."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise

LABELS: dict[str, str | Promise] = {}


def register(labels: Mapping[str, str | Promise]) -> None:
    LABELS.update(labels)


def activity_label(activity: str) -> str:
    return str(LABELS.get(activity, activity))
