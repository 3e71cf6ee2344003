VENV := .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(VENV)/bin/flask --app app

.PHONY: run test fuzz clean

# What serving needs, then (for make test) the test tools on top.
$(VENV)/.installed: setup.cfg pyproject.toml
	@echo "make: installing vorel-lite into $(VENV) (the first time takes about half a minute)"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "make: installing the test tools into $(VENV)"
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) serve --demo --host $(HOST) --port $(PORT)

# The TypeScript client generators tests/test_generated_clients.py runs (it skips them, saying
# so, where npm is missing or the install failed).
GENERATORS := tests/generators
$(GENERATORS)/node_modules/.installed: $(GENERATORS)/package.json $(GENERATORS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(GENERATORS) --no-audit --no-fund --loglevel=error && touch $@ \
		|| echo "make: npm ci failed: the TypeScript generator checks will be skipped"; \
	else echo "make: no npm: the TypeScript generator checks will be skipped"; fi

test: $(VENV)/.installed-test $(GENERATORS)/node_modules/.installed
	$(VENV)/bin/flake8 vorel_lite tests bench app.py
	$(VENV)/bin/pytest -q

# The conformance fuzz alone, larger than in `make test` (which runs 40 examples per operation).
FUZZ_EXAMPLES ?= 1000
fuzz: $(VENV)/.installed-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q -m fuzz tests/test_fuzz.py

# Benchmarks, not part of `make test` (20 to 25 minutes): prints the tables and writes
# docs/benchmarks.md and docs/latency-vs-size.png. Needs wrk: installed with apt-get if missing.
# With npm, Prism and json-server (bench/reference/) are installed into ~/.cache/vorel-lite-bench
# the first time and compared with; without it that part is skipped, with a line saying so.
# `bench/compare.py --docs docs` measures that part alone (a few minutes).
.PHONY: bench
bench: $(VENV)/.installed-test
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	@if command -v wrk >/dev/null 2>&1; then \
		echo "bench: using $$(command -v wrk)"; \
	else \
		echo "bench: wrk is missing; installing it with apt-get"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		{ command -v apt-get >/dev/null 2>&1 \
			&& $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk \
			&& command -v wrk >/dev/null 2>&1; } \
		|| { echo "bench: could not install wrk with apt-get; install wrk" \
			"(https://github.com/wg/wrk or your package manager) and run make bench again" >&2; \
			exit 1; }; \
	fi
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) *.egg-info
