# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from this file, pyproject.toml and requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup system-packages test-packages db lint format schema bench

run: setup db
	$(BIN)/circle migrate
	$(BIN)/circle seed --if-empty
	$(BIN)/circle serve

test: setup db lint test-packages
	$(BIN)/python -m pytest

setup: $(STAMP) system-packages

$(STAMP): pyproject.toml requirements.lock
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed: installing python3-venv"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q python3-venv && \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# PostgreSQL and PostGIS come from the distribution; `circle db packages` names what is missing.
system-packages: $(STAMP)
	@missing="$$($(BIN)/circle db packages)"; \
	if [ -n "$$DATABASE_URL" ] || [ -z "$$missing" ]; then exit 0; fi; \
	echo "installing $$missing (apt)"; \
	$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing

# The circle page test renders /c/{code} in Debian's chromium; the proxy test runs
# deploy/nginx in Debian's nginx, over TLS with a certificate openssl makes (each test is
# skipped without its program). The tests start nginx themselves: the service Debian's
# package would start (on port 80, where services may start) is stopped again.
TEST_PROGRAMS := chromium nginx openssl
test-packages:
	@missing=""; for program in $(TEST_PROGRAMS); do \
	  command -v $$program >/dev/null 2>&1 || [ -x /usr/sbin/$$program ] || \
	  missing="$$missing $$program"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	  case "$$missing" in *nginx*) $(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true;; esac; fi

db: setup
	@if [ -z "$$DATABASE_URL" ]; then $(BIN)/circle db up; else echo "db: using DATABASE_URL"; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: setup
	$(BIN)/python -c 'from strawberry.printer import print_schema; from api.schema import schema; print(print_schema(schema), file=open("api/schema.graphql", "w"))'

bench: setup db
	$(BIN)/python -m bench.bench_grids
