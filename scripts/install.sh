#!/usr/bin/env bash
# Installs a working `outrig` on PATH from this checkout: builds the CLI and the packages it
# needs, packs them as they would be published, and installs the tarballs globally with npm
# (into npm's global prefix, or into $PREFIX when set: then put $PREFIX/bin on PATH).
# Component packages are added afterwards with `outrig components add <name or tarball>`.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/bootstrap.sh
pnpm install --frozen-lockfile >&2
pnpm exec turbo run build --output-logs=errors-only --filter outrig >&2
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for dir in packages/cli packages/core packages/runtime packages/memory packages/sqlite; do
  (cd "$dir" && pnpm pack --pack-destination "$out" >/dev/null)
done
prefix_args=()
if [ -n "${PREFIX:-}" ]; then prefix_args=(--prefix "$PREFIX"); fi
npm install -g "${prefix_args[@]}" --no-audit --no-fund --loglevel=error "$out"/*.tgz
echo "installed: $(command -v outrig || echo "${PREFIX:-npm prefix}/bin/outrig")" >&2
