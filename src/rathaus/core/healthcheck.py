"""`python -m rathaus.core.healthcheck`: the container's HEALTHCHECK (Dockerfile).

The slim image has no curl; this asks the web server in the same container for /healthz and
exits 0 on a 200, 1 otherwise (a 503 from a stale worker included, so the orchestrator sees
what the load balancer sees). It imports no Django: it runs every 30 seconds. The Host header
is `localhost`, which compose.yaml adds to RATHAUS_ALLOWED_HOSTS; /healthz is exempt from the
HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), since this request never passes the proxy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def main() -> int:
    url = os.environ.get("RATHAUS_HEALTHCHECK_URL", DEFAULT_URL)
    if not url.startswith(("http://", "https://")):
        print(f"RATHAUS_HEALTHCHECK_URL must be an http(s) URL, not {url!r}", file=sys.stderr)
        return 1
    request = urllib.request.Request(url, headers={"Host": "localhost"})  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            body = response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read(2000).decode('utf-8', 'replace')}")
        return 1
    except OSError as error:
        print(f"{url}: {error}")
        return 1
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
