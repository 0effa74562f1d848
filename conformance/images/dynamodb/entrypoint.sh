#!/bin/sh
# dynalite in memory on port 8000; tables become ACTIVE at once instead of after 500 ms.
set -e
if [ "$#" -eq 0 ] || [ "$1" = "dynalite" ]; then
  [ "$#" -gt 0 ] && shift
  exec node /opt/dynalite/node_modules/dynalite/cli.js --port 8000 \
    --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 "$@"
fi
exec "$@"
