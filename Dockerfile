# syntax=docker/dockerfile:1
# Rathaus as an OCI image (README: "Production with containers"). Three stages: the front-end
# libraries (npm ci), the Python build (dependencies pinned by constraints.txt, translations,
# static files), and a slim runtime with only what WeasyPrint and psycopg need.

FROM node:22-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS builder
# gettext for compilemessages; nothing of it goes into the runtime image.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
# Editable, so settings.PROJECT_DIR is /app and finds /app/node_modules (STATICFILES_DIRS).
RUN pip install -c constraints.txt -e .
COPY --from=frontend /app/node_modules ./node_modules
# Settings are read at build time too: a throw-away key and data directory, never shipped.
RUN cd src/rathaus && django-admin compilemessages --ignore=.venv -v 0 \
    && cd /app \
    && RATHAUS_DATA_DIR=/tmp/build-data \
       RATHAUS_SECRET_KEY=build-only-key-never-used-at-runtime-0123456789 \
       RATHAUS_STATIC_ROOT=/app/static \
       rathaus collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-data

FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint (letters as PDF) needs Pango and HarfBuzz and some fonts; nothing else is native.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
       fonts-dejavu-core fonts-liberation shared-mime-info \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rathaus \
    && useradd --system --uid 10001 --gid rathaus --home-dir /data --shell /usr/sbin/nologin rathaus \
    && mkdir /data && chown rathaus:rathaus /data
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=rathaus.settings \
    RATHAUS_DATA_DIR=/data \
    RATHAUS_STATIC_ROOT=/app/static \
    RATHAUS_LOG_FORMAT=json
WORKDIR /app
USER rathaus
# The data directory holds the uploaded files (media) and, unless RATHAUS_SECRET_KEY is set,
# the generated secret key: back it up with the database (README: "Backup and restore").
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "rathaus.core.healthcheck"]
# The same image runs the worker (`rathaus worker`) and one-off commands (`rathaus migrate`):
# compose.yaml gives each its command; the default is the web server.
CMD ["gunicorn", "rathaus.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "60", "--no-control-socket"]
