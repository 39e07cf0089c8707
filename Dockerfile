# syntax=docker/dockerfile:1
# Pitcrew production image: gunicorn serves the app, the same image runs the Celery worker and beat.
# Front-end packages come from npm at build time and are served by the app itself (whitenoise): no CDN.

# ---------------------------------------------------------------------------------------- front end
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor.mjs scripts/vendor.mjs
# postinstall (scripts/vendor.mjs) copies the files pages use to static/vendor/
RUN npm ci --no-audit --no-fund

# ----------------------------------------------------------------------------------------------- app
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=itsm.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

RUN groupadd --system --gid 10001 pitcrew \
    && useradd --system --uid 10001 --gid pitcrew --home-dir /app --shell /usr/sbin/nologin pitcrew

WORKDIR /app

# Pinned versions only, in their own layer so code changes do not reinstall them.
COPY requirements.lock ./
RUN pip install --root-user-action=ignore -r requirements.lock

# Code and static files stay owned by root: the app user can write only to var/ (uploads).
COPY . .
COPY --from=assets /src/static/vendor static/vendor

# Hashed, compressed static files for the manifest storage. The secret exists only for this build step.
RUN DEBUG=false STATIC_MANIFEST=true SECRET_KEY=collectstatic-build-only-not-a-secret VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/media \
    && chown -R pitcrew:pitcrew /app/var

USER pitcrew
EXPOSE 8000

# Web by default; docker-compose.yml runs the worker and beat from the same image with another command.
CMD ["gunicorn", "itsm.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
