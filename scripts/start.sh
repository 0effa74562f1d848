#!/usr/bin/env bash
# The main job: installs what is needed, then runs the sidecar with the example app on the
# embedded defaults (SQLite state, in-memory pub/sub). Extra arguments go to `outrig run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
pnpm install --frozen-lockfile >&2
exec node --conditions=@outrig/source --disable-warning=ExperimentalWarning packages/cli/src/bin.ts run \
  --app-id myapp --app-port 3000 --dapr-http-port 3500 "$@" -- node packages/cli/examples/app.js
