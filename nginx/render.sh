#!/bin/sh
# Fills the placeholders of nginx.conf.template from the environment and starts nginx.
set -eu
mkdir -p "$NGINX_RUNTIME_DIR"
cp /etc/nginx/proxy_params.conf "$NGINX_RUNTIME_DIR/"
# In a container, logs go to the container's output: `docker compose logs web`.
ln -sf /dev/stdout "$NGINX_RUNTIME_DIR/access.log"
ln -sf /dev/stderr "$NGINX_RUNTIME_DIR/error.log"
# shellcheck disable=SC2016 # the variable names are for envsubst, not for the shell
envsubst '${NGINX_LISTEN} ${NGINX_RUNTIME_DIR} ${NGINX_DIST_DIR} ${NGINX_RESOLVER} ${NGINX_UPSTREAMS} ${NGINX_NOTES_UPSTREAMS}' \
    < /etc/nginx/nginx.conf.template > "$NGINX_RUNTIME_DIR/nginx.conf"
exec nginx -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf"
