"""The machinery of tests/test_fuzz_pages.py: find every page of the URL conf, learn what each
page reads, and send it malformed requests, each in a savepoint that is rolled back.

Nothing here knows a page by name. The pages come from `django.urls.get_resolver()`; their
parameters from what the views read while the test watches (`RecordingMiddleware`), from the
forms they build (`forms_watched`) and from the links and forms of the HTML they answer with;
the values of path arguments from those links (`Campaign.crawl`).

The parts, in the order a campaign uses them: `values` (the malformed values), `urlconf` (the
pages), `recording` (what a request reads), `html` (links and forms), `sending` (one request in
a savepoint, and its judgement) and `campaign` (learning, then fuzzing within a budget).
"""

from tests.fuzzing.campaign import Budget, Campaign
from tests.fuzzing.recording import RecordingMiddleware, forms_watched, project_forms
from tests.fuzzing.sending import Fuzzer
from tests.fuzzing.urlconf import pages
from tests.fuzzing.values import NASTY

__all__ = [
    "NASTY",
    "Budget",
    "Campaign",
    "Fuzzer",
    "RecordingMiddleware",
    "forms_watched",
    "pages",
    "project_forms",
]
