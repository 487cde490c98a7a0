# Rasa 3.6.21 server image (Python 3.10) with the model trained at build time. Build context: the repository root.
FROM python:3.10.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/srv/dialogs
WORKDIR /srv/dialogs
COPY dialogs/requirements.txt ./requirements.txt
RUN pip install --no-cache-dir -r requirements.txt
COPY dialogs ./
RUN rasa train --config config.yml --domain domain --data data --out /srv/models --fixed-model-name model
RUN useradd --system --uid 10002 rasa && chown -R rasa /srv
USER rasa
# Endpoints (tracker store, lock store, action server) are written by `python -m bot rasa-endpoints` into
# the shared volume at start; the API listens on loopback only (shared network namespace with the app).
# `rasa_addons.server` is `rasa` with the server add-ons (dialogs/rasa_addons) installed.
CMD ["sh", "-c", "python -m rasa_addons.server run -m /srv/models/model.tar.gz --enable-api --auth-token \"$MC_RASA_TOKEN\" -i 127.0.0.1 -p 5005 --endpoints /srv/run/endpoints.yml --credentials /srv/run/credentials.yml"]
