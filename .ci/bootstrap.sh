# Sourced by the README commands and CI: makes Node >= 22 and the pinned pnpm available, even on a
# machine whose system Node is older or missing. Installs into ~/.cache/outrig-toolchain once.
# shellcheck shell=bash
OUTRIG_TOOLCHAIN="${OUTRIG_TOOLCHAIN:-$HOME/.cache/outrig-toolchain}"
OUTRIG_NODE_SPEC="${OUTRIG_NODE_SPEC:-node@24}"
OUTRIG_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json")"

outrig_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$OUTRIG_TOOLCHAIN/node_modules/.bin/node" ]; then
  export PATH="$OUTRIG_TOOLCHAIN/node_modules/.bin:$PATH"
fi
if [ "$(outrig_node_major)" -lt 22 ] || ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$OUTRIG_PNPM_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: npm is needed to install Node.js 24; install Debian's nodejs and npm first (apt-get install -y nodejs npm)" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "bootstrap: installing $OUTRIG_NODE_SPEC and pnpm@$OUTRIG_PNPM_VERSION into $OUTRIG_TOOLCHAIN" >&2
  mkdir -p "$OUTRIG_TOOLCHAIN"
  npm install --prefix "$OUTRIG_TOOLCHAIN" --no-audit --no-fund --loglevel=error \
    "$OUTRIG_NODE_SPEC" "pnpm@$OUTRIG_PNPM_VERSION" >&2
  export PATH="$OUTRIG_TOOLCHAIN/node_modules/.bin:$PATH"
fi
if [ "$(outrig_node_major)" -lt 22 ]; then
  echo "bootstrap: Node >= 22 is required, found $(node --version 2>/dev/null || echo none)" >&2
  return 1 2>/dev/null || exit 1
fi
export COREPACK_ENABLE_STRICT=0
