#!/bin/sh
# The web container is healthy when its HTTPS server answers the app's page with 200 (the
# images carry openssl, not curl).
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' \
    | openssl s_client -quiet -connect 127.0.0.1:8443 2>/dev/null \
    | head -n 1 | grep -q ' 200 '
