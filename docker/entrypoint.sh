#!/bin/sh
# Entry point of the pacsbox image. It starts as root only to choose the user the services run as, then
# drops to it: the owner of the mounted configuration folder, so .env and the keys (mode 0600) stay
# readable and `make run` on the host keeps sharing them; the image's `pacsbox` user (uid 10001) when
# root owns the folder. The image's `pacsbox` account takes that uid, so nginx's workers can name it.
#   pacsbox-entrypoint ARGS...     `pacsbox ARGS...` as that user, the data folder handed to it first
#   pacsbox-entrypoint setup-once  the setup service: the wizard when `pacsbox setup --check` fails,
#                                  then .env and certs/ handed to that user
#   pacsbox-entrypoint account     only the account (the nginx image's entry point calls it)
set -eu
config=${PACSBOX_CONFIG_DIR:-/etc/pacsbox}
data=${PACSBOX_DATA_DIR:-/var/lib/pacsbox}

if [ "$(id -u)" != 0 ]; then
    exec pacsbox "$@"  # started as a chosen user (docker run --user): nothing to choose
fi

uid=$(stat -c %u "$config")
gid=$(stat -c %g "$config")
if [ "$uid" = 0 ]; then
    uid=10001
    gid=10001
fi
[ "$(id -g pacsbox)" = "$gid" ] || groupmod -o -g "$gid" pacsbox
[ "$(id -u pacsbox)" = "$uid" ] || usermod -o -u "$uid" -g "$gid" pacsbox

as_pacsbox() {
    HOME=$data exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}

case "${1:-}" in
account)
    exit 0 ;;
setup-once)
    if pacsbox setup --check >/dev/null 2>&1; then
        echo "setup: configuration complete, nothing to do"
    else
        pacsbox setup --non-interactive --generate-admin-password
    fi
    chown "$uid:$gid" "$config/.env"
    chown -R "$uid:$gid" "$config/certs"
    exit 0 ;;
esac

if ! setpriv --reuid="$uid" --regid="$gid" --clear-groups test -r "$config" -a -x "$config"; then
    echo "pacsbox: uid $uid cannot read the configuration folder (PACSBOX_CONFIG_PATH): chmod 755 it" >&2
    exit 1
fi
# A data volume written by an older image (as root) is handed over once.
if [ -w "$data" ] && [ "$(stat -c %u "$data")" != "$uid" ]; then
    chown -R "$uid:$gid" "$data"
fi
as_pacsbox pacsbox "$@"
