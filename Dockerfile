# The image of the Python services (pacs, auth, viewer) and of the setup wizard.
# Built from a wheelhouse made on the host (`make wheelhouse`), so the build needs no Python index;
# BASE_IMAGE lets an air-gapped site build on its own Debian image (scripts/build-base-image makes one,
# with python3 and python3-venv already in it, so no apt-get runs here; any Debian bookworm works).
# The wheelhouse comes last, so a code change rebuilds only the layers that install it.
ARG BASE_IMAGE=pacsbox/base:bookworm

FROM ${BASE_IMAGE} AS install
# every image a build makes carries the label, so `make images` can remove the ones a new build superseded
LABEL pacsbox.image=install-stage
RUN dpkg -s python3-venv >/dev/null 2>&1 || { apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*; }
COPY build/wheelhouse /wheelhouse
RUN python3 -m venv /opt/pacsbox \
    && /opt/pacsbox/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse pacsbox

FROM ${BASE_IMAGE}
LABEL pacsbox.image=services
RUN dpkg -s python3 >/dev/null 2>&1 || { apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*; }
# The services run as `pacsbox` (docker/entrypoint.sh drops to it); the data folder is its own, so a new
# named volume mounted there starts out owned by it.
RUN groupadd --system --gid 10001 pacsbox \
    && useradd --system --uid 10001 --gid pacsbox --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin pacsbox \
    && install -d -o pacsbox -g pacsbox -m 0750 /var/lib/pacsbox
COPY docker/entrypoint.sh /usr/local/bin/pacsbox-entrypoint
# Settings: the mounted configuration folder holds .env and certs/; data lives in a named volume.
# The HTTP ports are reachable only on the compose network, where nginx alone calls them.
ENV PATH=/opt/pacsbox/bin:$PATH \
    PACSBOX_CONFIG_DIR=/etc/pacsbox \
    PACSBOX_DATA_DIR=/var/lib/pacsbox \
    PACSBOX_PRIVATE_NETWORK=true \
    PYTHONUNBUFFERED=1
# No VOLUME here: the compose file mounts a named volume on /var/lib/pacsbox where data is kept, and the
# setup service, which keeps none, would leave an anonymous volume behind at every `down`.
ENTRYPOINT ["pacsbox-entrypoint"]
CMD ["--help"]
COPY --from=install /opt/pacsbox /opt/pacsbox
