#!/bin/sh
# Render nginx.conf from the settings (.env in the mounted configuration folder, the environment),
# then run nginx in the foreground as the container's main process.
set -eu
run=/run/pacsbox-nginx
pacsbox nginx render --run-dir "$run" --https-port 443 --http-port 80 \
    --template /etc/pacsbox-nginx/nginx.conf.template >/dev/null
exec nginx -e stderr -p "$run" -c "$run/nginx.conf" -g "daemon off;"
