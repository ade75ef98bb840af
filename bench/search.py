"""Search benchmark: the demo catalogue plus 20,000 generated articles, 1,000 realistic queries.

Prints p50/p95 latency of the desk search (index lookup plus the database fetch of the hits,
i.e. the server-side work of one search-as-you-type request) and the share of queries whose
expected service is among the first three results. Budget: p95 <= 30 ms.

    .venv/bin/python bench/search.py            # SQLite in a temporary directory
    DATABASE_URL=postgres://... .venv/bin/python bench/search.py
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import percentile

ARTICLES = 20_000
QUERIES = 1_000

# Prefixes of a query shorter than this are not sent by the desk (search-as-you-type).
MIN_PREFIX = 3


def query_pairs() -> list[tuple[str, str]]:
    """The search quality pairs of the test suite: what callers say → the expected service."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.catalog.test_search_quality import PAIRS

    return PAIRS


def setup_django(data_dir: str) -> None:
    os.environ.setdefault("RATHAUS_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.core.management import call_command
        from django.db import connection
        from django_scopes import scope

        from rathaus.catalog import selectors
        from rathaus.catalog.models import Article, Service
        from rathaus.catalog.services import catalog_revision_bump
        from rathaus.core.models import Tenant

        print(
            f"database: {connection.vendor}; machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("demo", "--no-migrate", "--activity-days", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"demo city built in {time.perf_counter() - started:.1f} s")
        tenant = Tenant.objects.get(slug="musterstadt")
        rng = random.Random(4711)
        with scope(tenant=tenant):
            services = list(Service.objects.all())
            names = {s.name: s for s in services}
            pairs = [
                (query, {names[name] for name in expected.split("|")})
                for query, expected in query_pairs()
            ]
            if Article.objects.count() < ARTICLES:
                # Bulk seeding for the benchmark only; the product writes through services.
                words = " ".join(s.summary for s in services).split()
                started = time.perf_counter()
                batch = []
                for i in range(ARTICLES):
                    service = rng.choice(services)
                    batch.append(
                        Article(
                            tenant=tenant,
                            question=f"{rng.choice(['Frage zu', 'Wie geht', 'Was kostet', 'Wo bekomme ich'])} {service.name} ({i})?",
                            answer=" ".join(rng.choices(words, k=60)),
                            keywords=", ".join(rng.choices(words, k=3)),
                            published=True,
                        )
                    )
                Article.objects.bulk_create(batch, batch_size=1000)
                catalog_revision_bump(tenant=tenant)
                print(f"{ARTICLES} articles generated in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            selectors.search_index(tenant)
            print(
                f"search index built in {time.perf_counter() - started:.2f} s ({Article.objects.count()} articles, {len(services)} services)"
            )

            # Each query is typed: the desk sends the growing prefixes, then the whole query.
            latencies = []
            top3 = 0
            for _ in range(QUERIES):
                query, expected = rng.choice(pairs)
                prefix = query[: rng.randint(min(MIN_PREFIX, len(query)), len(query))]
                for typed in (prefix, query + " "):
                    t0 = time.perf_counter()
                    hits = selectors.catalog_search(tenant, typed)
                    latencies.append((time.perf_counter() - t0) * 1000)
                complete = hits
                if any(h.kind == "service" and h.obj in expected for h in complete[:3]):
                    top3 += 1
        print(
            f"{QUERIES} queries ({len(pairs)} distinct), each as a typed prefix and complete "
            f"({len(latencies)} desk requests): p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms, mean {statistics.mean(latencies):.1f} ms"
        )
        print(f"expected service in the top 3: {top3 / QUERIES:.1%}")


if __name__ == "__main__":
    main()
