#!/bin/sh
# `docker run IMAGE --flag` means `redis-server /etc/redis/outrig.conf --flag`, as in the official image.
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- redis-server /etc/redis/outrig.conf "$@"; fi
exec "$@"
