# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make html   set up .venv and build the site into _build/html
#   make test   set up .venv and run the test suite
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
SOURCEDIR  := source
BUILDDIR   ?= _build
SPHINXOPTS ?=
PORT       ?= 8000

.PHONY: help html dirhtml test test-lowest test-newest test-range lint serve bench clean

help:
	@echo "make html | dirhtml | test | test-range | lint | serve | bench | clean"

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-test.txt -e .
	@touch $@

html dirhtml: $(VENV)/.installed
	$(BIN)/sphinx-build -M $@ $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The supported range's two ends (.ci/range): every declared lower bound on
# Python 3.11; the newest releases on Python 3.13 (NEWEST_PYTHON=python3.13, or as
# root a Debian trixie root). test-range runs both and fails if either fails.
test-lowest test-newest: $(VENV)/.installed
	UV=$(BIN)/uv .ci/range $(@:test-%=%)

test-range: $(VENV)/.installed
	UV=$(BIN)/uv .ci/range lowest newest

# ruff, mypy (settings in pyproject.toml) and the import contracts; every one
# runs, and the target fails if any of them failed
lint: $(VENV)/.installed
	@status=0; \
	$(BIN)/ruff check orgreg_sphinx tests bench scripts conf.py || status=1; \
	$(BIN)/ruff format --check orgreg_sphinx tests bench scripts conf.py || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status

serve: $(VENV)/.installed
	$(BIN)/sphinx-autobuild $(SOURCEDIR) $(BUILDDIR)/html -c . --host 127.0.0.1 --port $(PORT) \
		--watch orgreg_sphinx $(SPHINXOPTS)

clean:
	rm -rf $(BUILDDIR)

# make bench [BENCH_ARGS="--sizes 100,1000 --memory-size 10000"]: timings against plain Sphinx
BENCH_ARGS ?=
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)
