PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=config.settings.test
# The browser tests drive Debian's Chromium: Playwright cannot download its own browsers here.
CHROMIUM := /usr/bin/chromium
# The suite runs in one process per CPU, four at most (pytest-xdist); each test file runs whole in
# one of them, as its tests share servers and module fixtures, in the order tests/conftest.py gives
# the files. TEST_WORKERS=0: in this process.
TEST_WORKERS ?= auto

.PHONY: run serve test install lint messages chromium

## make run: install, migrate, load the seed, make sure the editor account exists, serve on :8000
run: install messages
	$(MANAGE) migrate --noinput
	$(MANAGE) load_seed
	$(MANAGE) ensure_local_editor
	$(MANAGE) runserver 127.0.0.1:8000

## make serve: the production stack on :8000: gunicorn with WEB_CONCURRENCY workers, whitenoise,
## PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, SQLite and memory when not
serve: export DJANGO_SETTINGS_MODULE = config.settings.production
# Local defaults for what the environment does not set: the key that config/settings/local.py
# generates, loopback hosts, the SQLite file of `make run`, plain HTTP, and uploads served by Django.
serve: export SECRET_KEY ?= $(shell cat .local-secret-key 2>/dev/null)
serve: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
serve: export DATABASE_URL ?= sqlite:///$(CURDIR)/db.sqlite3
serve: export SECURE_SSL_REDIRECT ?= False
serve: export SERVE_MEDIA ?= True
serve: install messages .local-secret-key
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) migrate --noinput
	$(MANAGE) load_seed
	exec $(BIN)/gunicorn --config config/gunicorn.conf.py config.wsgi

.local-secret-key: | install
	DEBUG=True $(BIN)/python -c "import config.settings.local"

.PHONY: backup restore

## make backup: write every record, its history and every media file to
## backups/puente-<UTC time>.tar.gz (it holds password hashes and API tokens: keep it safe)
backup: install
	$(MANAGE) backup

## make restore FILE=backups/puente-….tar.gz: migrate an empty database, then load the backup
restore: install
	@test -n "$(FILE)" || { echo "Say which archive: make restore FILE=backups/…" >&2; exit 2; }
	$(MANAGE) migrate --noinput
	$(MANAGE) restore "$(FILE)"

.PHONY: bench

## make bench: the production server and its baselines under wrk, on a fresh synthetic dataset;
## results in bench/results/ (bench/README.md). Options in BENCH_ARGS, e.g.
## BENCH_ARGS="--database postgres --small"; see .venv/bin/python -m bench.run --help
bench: install messages
	@command -v wrk >/dev/null || { echo "make bench needs wrk; install it with: apt-get install -y wrk" >&2; exit 1; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make test: lint, format check, Django checks, migrations check and the test suite
test: chromium install lint messages
	$(TEST_SETTINGS) $(MANAGE) check
	$(TEST_SETTINGS) $(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder

## make messages: compile the committed translations; Babel does it without GNU gettext
messages: install
	$(BIN)/pybabel compile --domain django --directory locale --statistics

## make chromium: install Chromium and CJK fonts with apt-get as root, or say how to
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Chromium and CJK fonts for the browser tests."; \
			apt-get update && apt-get install -y chromium fonts-noto-cjk; \
		fi; \
		if [ ! -x $(CHROMIUM) ]; then \
			echo "The browser tests need Chromium at $(CHROMIUM). Install it with:" >&2; \
			echo "    sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk" >&2; \
			exit 1; \
		fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@
