VENV := .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(VENV)/bin/flask --app app

.PHONY: run test fuzz clean

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

# The conformance fuzz alone, larger than in `make test` (which runs 40 examples per operation).
FUZZ_EXAMPLES ?= 1000
fuzz: $(VENV)/.installed
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q -m fuzz tests/test_fuzz.py

clean:
	rm -rf $(VENV) *.egg-info
