# tutorial-kit: two commands do everything.
#   make lab   set up .venv and open the tutorial (JupyterLab on the embedded mock queue)
#   make test  set up .venv (with test tools and Chromium) and run the whole suite

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# Re-install when the project's dependencies change.
STAMP      := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: lab test test-fast bench clean help chromium

help:
	@echo "make lab    - set everything up and open the tutorial in JupyterLab (mock queue embedded)"
	@echo "make test   - set everything up and run all the tests"
	@echo "make bench  - run the benchmarks and print their figures"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[lab]'
	touch $@

# The test tools bring uv (tests/venv_install.py); it installs the rest from its wheel cache in
# seconds where pip, which keeps no cache these machines reuse, took half a minute. pip when the
# uv step fails (say, no wheel of uv for this platform).
$(TEST_STAMP): pyproject.toml | $(PY)
	( $(PIP) install --quiet 'uv>=0.13' && \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) --system-certs -e '.[lab,test]' ) || \
	$(PIP) install --quiet -e '.[lab,test]'
	touch $(STAMP) $@

lab: $(STAMP)
	$(PY) -m tutorial_kit lab notebooks --db .mock-queue/queue.sqlite3

# Browser tests drive Debian's Chromium, the classroom's tests bubblewrap; install them when
# missing (root only, as on CI).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will skip)"; \
	  fi; \
	fi
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's bubblewrap for the classroom's sandbox tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "bwrap is missing: run 'sudo apt-get install bubblewrap' (classroom sandbox tests will skip)"; \
	  fi; \
	fi

# One pytest worker per core (pytest-xdist); --dist loadfile keeps each test module and each
# notebook (its cells run in order, in one kernel) on one worker; --no-loadscope-reorder keeps
# tests/conftest.py's order (modules with slow tests first).
# PYTHONDONTWRITEBYTECODE= : the suite starts hundreds of Python processes (kernels, servers,
# CLIs); where the environment says not to write bytecode, each would compile tutorial_kit anew.
test: $(TEST_STAMP) chromium
	$(VENV)/bin/lint-imports --no-cache
	PYTHONDONTWRITEBYTECODE= TUTORIAL_KIT_SEED=20261128 $(PY) -m pytest -p no:cacheprovider tests notebooks \
	  --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg --durations=15 \
	  -n auto --dist loadfile --no-loadscope-reorder

test-fast: $(TEST_STAMP)
	$(PY) -m pytest -x -q tests -m "not browser"

bench: $(TEST_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) test-output .pytest_cache
