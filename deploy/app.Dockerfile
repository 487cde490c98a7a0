# Application and action server image (Python 3.11). Build context: the repository root.
FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MC_CONFIG_FILE=/srv/medconcierge/config.production.yml
WORKDIR /srv/medconcierge
COPY pyproject.toml ./
COPY bot ./bot
COPY locales ./locales
COPY knowledge ./knowledge
COPY alembic.ini babel.cfg config.yml config.production.yml ./
RUN pip install --no-cache-dir . && pybabel compile --use-fuzzy -d locales -D messages
RUN useradd --system --uid 10001 medconcierge && mkdir -p var && chown medconcierge var
USER medconcierge
EXPOSE 8000
CMD ["uvicorn", "bot.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-access-log"]
