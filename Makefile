# pacsbox: `make run` starts the native stack, `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEBIAN_TEST_TOOLS := storescu:dcmtk Orthanc:orthanc chromium:chromium nginx:nginx

.PHONY: venv test test-sqlite test-postgres run clean crash-test fuzz

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(STAMP)

debian-test-tools:
	scripts/ensure-debian-packages $(DEBIAN_TEST_TOOLS)

## Every test: the suite on SQLite, then the index-backed tests again on a temporary PostgreSQL.
test: venv debian-test-tools
	$(PY) -m pytest -q
	PACSBOX_TEST_DATABASE=postgresql $(PY) -m pytest -q -m db

test-sqlite: venv debian-test-tools
	$(PY) -m pytest -q

test-postgres: venv debian-test-tools
	PACSBOX_TEST_DATABASE=postgresql $(PY) -m pytest -q -m db

## Many `kill -9` of the pacs service while clients store; then every acknowledged instance is checked.
crash-test: venv
	$(PY) -m tests.crash.kill_loop --kills 30 --clients 4

## The fuzz properties of tests/fuzz with a large budget (the suite runs them briefly); prints executions per property.
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/fuzz --hypothesis-show-statistics

## The native stack on the embedded defaults (SQLite, data under ./data).
run: venv
	$(VENV)/bin/pacsbox serve pacs --host 127.0.0.1

clean:
	rm -rf $(VENV) .pytest_cache

.PHONY: bench bench-quick
BENCH_TOOLS := Orthanc:orthanc storescu:dcmtk dcmcjpeg:dcmtk nginx:nginx curl:curl

## pacsbox beside Orthanc on the same generated data (issue 8): writes docs/PERFORMANCE.md and docs/performance.json.
bench: venv
	scripts/ensure-debian-packages $(BENCH_TOOLS)
	test -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so || scripts/ensure-debian-packages missing:orthanc-dicomweb
	$(PY) -m bench

## The same scenarios on small data: a smoke run of about two minutes.
bench-quick: venv
	scripts/ensure-debian-packages $(BENCH_TOOLS)
	test -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so || scripts/ensure-debian-packages missing:orthanc-dicomweb
	$(PY) -m bench --quick
