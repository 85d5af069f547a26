#!/bin/sh
# Fills the placeholders of nginx.conf.template (and tls.conf) from the environment, makes a
# self-signed certificate on the first start when none is mounted, and starts nginx.
set -eu
mkdir -p "$NGINX_RUNTIME_DIR"
cp /etc/nginx/proxy_params.conf "$NGINX_RUNTIME_DIR/"
# In a container, logs go to the container's output: `docker compose logs web`.
ln -sf /dev/stdout "$NGINX_RUNTIME_DIR/access.log"
ln -sf /dev/stderr "$NGINX_RUNTIME_DIR/error.log"
if [ ! -s "$NGINX_TLS_DIR/tls.crt" ] || [ ! -s "$NGINX_TLS_DIR/tls.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$NGINX_TLS_DIR/tls.key" -out "$NGINX_TLS_DIR/tls.crt" 2>/dev/null
    echo "generated a self-signed TLS certificate for localhost in $NGINX_TLS_DIR" \
        "(browsers will warn; mount a real tls.crt and tls.key there instead)" >&2
fi
# shellcheck disable=SC2016 # the variable names are for envsubst, not for the shell
envsubst '${NGINX_TLS_DIR} ${NGINX_HSTS_MAX_AGE}' \
    < /etc/nginx/tls.conf > "$NGINX_RUNTIME_DIR/tls.conf"
# shellcheck disable=SC2016
envsubst '${NGINX_LISTEN} ${NGINX_RUNTIME_DIR} ${NGINX_DIST_DIR} ${NGINX_RESOLVER} ${NGINX_UPSTREAMS} ${NGINX_NOTES_UPSTREAMS} ${NGINX_TLS} ${NGINX_REDIRECT_LISTEN} ${NGINX_HTTPS_PORT} ${NGINX_SERVER_NAME}' \
    < /etc/nginx/nginx.conf.template > "$NGINX_RUNTIME_DIR/nginx.conf"
exec nginx -p "$NGINX_RUNTIME_DIR" -c "$NGINX_RUNTIME_DIR/nginx.conf" -e "$NGINX_RUNTIME_DIR/error.log"
