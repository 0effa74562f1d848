#!/usr/bin/env bash
# The test command: installs the toolchain and dependencies, starts the test services, then runs
# lint, typecheck and every package's tests, and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
pnpm install --frozen-lockfile

if [ -f conformance/scripts/services-up.sh ]; then
  # shellcheck source=/dev/null
  source conformance/scripts/services-up.sh
fi

report_dir="$(mktemp -d)"
export OUTRIG_TEST_REPORT_DIR="$report_dir"
status=0
pnpm exec biome check . || status=1
pnpm exec turbo run typecheck --output-logs=errors-only || status=1
pnpm exec turbo run test --concurrency=1 --continue --output-logs=full || status=1
node scripts/test-summary.mjs "$report_dir" || status=1
exit "$status"
