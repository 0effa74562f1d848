#!/bin/sh
# moto's DynamoDB API, single-threaded, in memory, on port 8000 (like DynamoDB Local).
set -e
if [ "$#" -eq 0 ] || [ "$1" = "moto" ]; then
  [ "$#" -gt 0 ] && shift
  exec python3 /opt/moto-dynamodb.py "$@"
fi
exec "$@"
