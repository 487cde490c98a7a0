# MedConcierge. The README's two commands: `make run` and `make test`.
SHELL := /bin/bash
PY311 ?= $(shell command -v pyenv >/dev/null 2>&1 && ls -d $$(pyenv root)/versions/3.11*/bin/python 2>/dev/null | head -1 || command -v python3.11)
VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed
CHROMIUM_STAMP := var/.chromium-installed
LANGS := en zh ru ar ko ja

.PHONY: run test install lint typecheck pytest locales extract-messages bench clean

run: install
	$(VENV)/bin/python -m bot run

test: install $(CHROMIUM_STAMP)
	$(VENV)/bin/ruff check bot tests bench dialogs/rasa_addons
	$(VENV)/bin/mypy bot
	$(VENV)/bin/python -m pytest

install: $(APP_STAMP) $(RASA_STAMP) locales

$(APP_STAMP): pyproject.toml
	@test -n "$(PY311)" || { echo "Python 3.11 was not found: install it (for example 'pyenv install 3.11.7')."; exit 1; }
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

$(RASA_STAMP): dialogs/requirements.txt
	@PY310=$$(scripts/find-python310.sh) || exit 1; \
	  test -x $(RASA_VENV)/bin/python || $$PY310 -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/pip install --quiet -r dialogs/requirements.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
$(CHROMIUM_STAMP):
	@mkdir -p var
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi; }
	touch $@

locales: $(APP_STAMP)
	@for l in $(LANGS); do \
	  po=locales/$$l/LC_MESSAGES/messages.po; mo=$${po%.po}.mo; \
	  if [ ! -f $$mo ] || [ $$po -nt $$mo ]; then $(VENV)/bin/pybabel compile --use-fuzzy --statistics -d locales -D messages -l $$l || exit 1; fi; \
	done

# Maintainers: refresh the catalogs after adding t(language, "…") strings (translations: locales/sources/*.yml).
extract-messages: $(APP_STAMP)
	$(VENV)/bin/python scripts/update_catalogs.py

bench: install
	$(VENV)/bin/python -m bench.turns

clean:
	rm -rf var/run var/models
