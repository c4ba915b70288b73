# The image of the Python services (pacs, auth, viewer) and of the setup wizard.
# Built from a wheelhouse made on the host (`make wheelhouse`), so the build needs no Python index;
# BASE_IMAGE lets an air-gapped site build on its own Debian image (scripts/build-base-image makes one).
ARG BASE_IMAGE=pacsbox/base:bookworm

FROM ${BASE_IMAGE} AS install
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY build/wheelhouse /wheelhouse
RUN python3 -m venv /opt/pacsbox \
    && /opt/pacsbox/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse pacsbox

FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=install /opt/pacsbox /opt/pacsbox
# Settings: the mounted configuration folder holds .env and certs/; data lives in a named volume.
# The HTTP ports are reachable only on the compose network, where nginx alone calls them.
ENV PATH=/opt/pacsbox/bin:$PATH \
    PACSBOX_CONFIG_DIR=/etc/pacsbox \
    PACSBOX_DATA_DIR=/var/lib/pacsbox \
    PACSBOX_PRIVATE_NETWORK=true \
    PYTHONUNBUFFERED=1
VOLUME /var/lib/pacsbox
ENTRYPOINT ["pacsbox"]
CMD ["--help"]
