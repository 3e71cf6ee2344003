VENV := .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(VENV)/bin/flask --app app

.PHONY: run test clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) demo --base-url http://$(HOST):$(PORT)
	$(FLASK) serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(VENV)/bin/flake8 vorel_lite tests app.py
	$(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) *.egg-info
