#!/bin/sh
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- mosquitto -c /mosquitto-no-auth.conf "$@"; fi
exec "$@"
