"""What a request reads (query keys, form fields) and which forms it builds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict


@dataclass
class Record:
    keys: set[str] = field(default_factory=set)  # asked of request.GET, POST or FILES
    forms: list[forms.BaseForm] = field(default_factory=list)  # built while it ran


_current: Record | None = None  # the record of the request running


@contextmanager
def recording(record: Record) -> Iterator[None]:
    """Note into `record` what the request sent inside this block reads and builds."""
    global _current
    _current = record
    try:
        yield
    finally:
        _current = None


class _Noting:
    """A QueryDict or MultiValueDict that notes the keys asked for."""

    def __getitem__(self, key: str) -> Any:
        _note(key)
        return super().__getitem__(key)  # type: ignore[misc]

    def get(self, key: str, default: Any = None) -> Any:
        _note(key)
        return super().get(key, default)  # type: ignore[misc]

    def getlist(self, key: str, default: Any = None) -> list[Any]:
        _note(key)
        return super().getlist(key, default)  # type: ignore[misc]

    def __contains__(self, key: object) -> bool:
        _note(key)
        return super().__contains__(key)  # type: ignore[misc]


def _note(key: object) -> None:
    if _current is not None and isinstance(key, str):
        _current.keys.add(key)


class _NotingQueryDict(_Noting, QueryDict):
    pass


class _NotingFiles(_Noting, MultiValueDict):
    pass


def _noting(data: QueryDict) -> QueryDict:
    watched = _NotingQueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        watched.setlist(key, values)
    watched._mutable = data._mutable
    return watched


class RecordingMiddleware:
    """First in the chain while the test runs: GET, POST and FILES note which keys the code
    asks for."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if _current is not None:
            request.GET = _noting(request.GET)
            if request.method == "POST":
                post, files = request.POST, request.FILES
                request.POST = _noting(post)
                request._files = _NotingFiles(dict(files.lists()))
        return self.get_response(request)


@contextmanager
def forms_watched() -> Iterator[None]:
    """Every form (and formset form) built while a request runs goes into its record."""
    original = forms.BaseForm.__init__

    def init(self: forms.BaseForm, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if _current is not None:
            _current.forms.append(self)

    forms.BaseForm.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        forms.BaseForm.__init__ = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class FormField:
    key: str
    file: bool
    values: tuple[str, ...]  # its initial value and choices: plausible values


def fields_of(form: forms.BaseForm) -> list[FormField]:
    """The keys a form reads from a request (prefix and sub-widgets included)."""
    found = []
    for name, item in form.fields.items():
        key = form.add_prefix(name)
        values: list[str] = []
        initial = form.initial.get(name, item.initial)
        if isinstance(initial, str | int) and not isinstance(initial, bool):
            values.append(str(initial))
        if isinstance(item, forms.ChoiceField) and not isinstance(item, forms.ModelChoiceField):
            values += [str(v) for v, _label in list(item.choices)[:6] if v not in ("", None)]
        widget = item.widget
        names = (
            [f"{key}{suffix}" for suffix in widget.widgets_names]
            if isinstance(widget, forms.MultiWidget)
            else [key]
        )
        found += [FormField(n, isinstance(item, forms.FileField), tuple(values)) for n in names]
    return found


def form_name(form_class: type) -> str:
    return f"{form_class.__module__}.{form_class.__qualname__}"


def project_forms(prefix: str = "rathaus.") -> set[str]:
    """Every form class the project defines (the URL conf has imported their modules)."""
    seen, todo = set(), list(forms.BaseForm.__subclasses__())
    while todo:
        form_class = todo.pop()
        todo += form_class.__subclasses__()
        if form_class.__module__.startswith(prefix):
            seen.add(form_name(form_class))
    return seen
