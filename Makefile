# pacsbox: `make run` starts the native stack, `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEBIAN_TEST_TOOLS := storescu:dcmtk Orthanc:orthanc chromium:chromium nginx:nginx npm:npm curl:curl libEGL.so.1:libegl1 libEGL_mesa.so.0:libegl-mesa0 strace:strace

.PHONY: venv test test-sqlite test-postgres run clean crash-test fuzz ohif wheelhouse images compose-check
.PHONY: docker-engine base-image

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,viewer3d]'
	touch $@

venv: $(STAMP)

debian-test-tools: orthanc-dicomweb
	scripts/ensure-debian-packages $(DEBIAN_TEST_TOOLS)

## Orthanc's DICOMweb plugin (a library, not a command): the peer of the benchmarks and of their smoke test.
orthanc-dicomweb:
	test -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so || scripts/ensure-debian-packages missing:orthanc-dicomweb

## Every test: the suite on SQLite, then the index-backed tests again on a temporary PostgreSQL.
test: venv debian-test-tools
	$(PY) -m pytest -q
	PACSBOX_TEST_DATABASE=postgresql $(PY) -m pytest -q -m db

test-sqlite: venv debian-test-tools
	$(PY) -m pytest -q

test-postgres: venv debian-test-tools
	PACSBOX_TEST_DATABASE=postgresql $(PY) -m pytest -q -m db

## Many `kill -9` of the pacs service while clients store; then every acknowledged instance is checked.
## Then the same for the auth service while clients issue, exchange and refresh tokens.
crash-test: venv
	$(PY) -m tests.crash.kill_loop --kills 30 --clients 4
	$(PY) -m tests.crash.auth_kill_loop --kills 30 --clients 4

## The fuzz properties of tests/fuzz with a large budget (the suite runs them briefly); prints executions per property.
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/fuzz --hypothesis-show-statistics --timeout=0

## The OHIF viewer the viewer service serves at /viewer/ (from the npm registry, patched; once).
ohif:
	scripts/fetch-ohif --dest build/ohif

## The native stack on the embedded defaults (SQLite, data under ./data): OHIF fetched once, the wizard
## on a first run (it prints the generated admin password once), then `pacsbox up` (Ctrl-C stops it).
run: venv
	@scripts/fetch-ohif --dest build/ohif || echo "make run: OHIF not fetched; /viewer/ answers 503 until 'make ohif' works"
	@[ -f .env ] || $(VENV)/bin/pacsbox setup --non-interactive --generate-admin-password
	$(VENV)/bin/pacsbox up

## The wheels the images install from (pacsbox and every dependency), built on this machine.
wheelhouse: venv
	rm -rf build/wheelhouse
	$(PY) -m pip wheel -q --wheel-dir build/wheelhouse .

## The images, on the local Debian base (scripts/build-base-image; BASE_IMAGE=... for another one).
## `make -j2 images` builds the wheelhouse and the base image side by side.
BASE_IMAGE ?= pacsbox/base:bookworm
docker-engine:
	scripts/docker-engine

base-image: docker-engine
	[ "$(BASE_IMAGE)" != pacsbox/base:bookworm ] || scripts/build-base-image

## After the build, the images it superseded (untagged, labelled `pacsbox.image`, used by no container) are
## removed: the install stage and the previous images stayed behind before (43 GB of them on the CI machine).
images: wheelhouse base-image
	docker build -q --build-arg BASE_IMAGE=$(BASE_IMAGE) -t pacsbox/pacsbox:latest .
	docker build -q -f nginx/Dockerfile -t pacsbox/nginx:latest .
	docker image prune -f --filter label=pacsbox.image

## Build the images, bring the compose stack up, store and fetch a study over HTTPS, restart, check, take it down.
compose-check: images
	scripts/compose-check

clean:
	rm -rf $(VENV) .pytest_cache

.PHONY: bench bench-quick bench-tools orthanc-dicomweb
BENCH_TOOLS := Orthanc:orthanc storescu:dcmtk dcmcjpeg:dcmtk nginx:nginx curl:curl strace:strace

bench-tools: orthanc-dicomweb
	scripts/ensure-debian-packages $(BENCH_TOOLS)

## pacsbox beside Orthanc on the same generated data (issue 8): writes docs/PERFORMANCE.md and docs/performance.json.
bench: venv bench-tools
	$(PY) -m bench

## The same scenarios on small data: a smoke run of about two minutes.
bench-quick: venv bench-tools
	$(PY) -m bench --quick
