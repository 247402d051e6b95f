# One image for every Torale process: web (gunicorn), worker and beat (Celery), migrate.
# docker-compose.yml says which command each one runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TORALE_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
# (psycopg[binary] ships libpq in its wheel: no compiler or system packages needed.)
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code belongs to root and is read-only for the app; only var/ is writable (settings
# create var/static at start-up). No collectstatic: whitenoise serves from the app finders.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin torale
COPY . .
RUN mkdir -p /app/var && chown torale:torale /app/var

USER torale
EXPOSE 8000
CMD ["gunicorn", "torale.wsgi", "--bind", "0.0.0.0:8000"]
