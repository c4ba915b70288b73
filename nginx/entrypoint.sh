#!/bin/sh
# Render nginx.conf from the settings (.env in the mounted configuration folder, the environment),
# then run nginx in the foreground as the container's main process: the master as root, the workers
# as `pacsbox`, which pacsbox-entrypoint gives the uid of the services (they read the stored files).
set -eu
run=/run/pacsbox-nginx
pacsbox-entrypoint account
pacsbox nginx render --run-dir "$run" --https-port 443 --http-port 80 --user pacsbox \
    --template /etc/pacsbox-nginx/nginx.conf.template >/dev/null
exec nginx -e stderr -p "$run" -c "$run/nginx.conf" -g "daemon off;"
