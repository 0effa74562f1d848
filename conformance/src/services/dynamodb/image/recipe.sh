# moto's DynamoDB server (Apache-2.0) on a Python copied from the build host: no Python package
# index is reachable here and Debian bookworm has no python3-moto, so the recipe takes the host's
# Python that has moto installed (the pyenv one on these machines), prunes it (collect.py), adds
# the Debian runtime libraries its extension modules link to, and checks it all in the chroot.

moto_python=""
for candidate in ${OUTRIG_MOTO_PYTHON:-} python3 "${PYENV_ROOT:-/root/.pyenv}"/versions/*/bin/python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" -c 'import moto, flask, flask_cors, werkzeug' >/dev/null 2>&1; then
    moto_python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$moto_python" ]; then
  cat >&2 <<'MSG'
ERROR: the dynamodb image needs a Python on the build host with moto[server] installed, and none
was found (tried $OUTRIG_MOTO_PYTHON, python3 on PATH, $PYENV_ROOT/versions/*/bin/python3).
The image is built without any network access to a package index, so install it on the host first,
on a machine that can reach one:  python3 -m pip install 'moto[server,dynamodb]==5.2.1'
(or set OUTRIG_MOTO_PYTHON=/path/to/python3 that has it).
MSG
  exit 1
fi
echo "recipe: using $moto_python ($("$moto_python" -c 'import sys, moto; print(sys.version.split()[0], "moto", moto.__version__)'))"

dest=/opt/python
"$moto_python" "$RECIPE_DIR/collect.py" "$ROOTFS$dest" "$RECIPE_DIR/moto-dynamodb.py"
install -m 0644 "$RECIPE_DIR/moto-dynamodb.py" "$ROOTFS/opt/moto-dynamodb.py"
if command -v strip >/dev/null 2>&1; then
  # The host build keeps debug info (half of libpython's size); the image does not need it.
  find "$ROOTFS$dest/lib" -maxdepth 1 -name 'libpython*.so*' -exec strip --strip-debug {} +
  find "$ROOTFS$dest/lib" -path '*/lib-dynload/*.so' -exec strip --strip-debug {} +
fi

# The Debian packages whose libraries the interpreter and the extension modules link to (the host
# is bookworm like the image, so its dpkg database names them).
mapfile -t sofiles < <(find "$ROOTFS$dest" -type f \( -name '*.so' -o -name '*.so.*' \) ; echo "$ROOTFS$dest/bin/python3.11")
mapfile -t libs < <(for f in "${sofiles[@]}"; do ldd "$f" 2>/dev/null; done \
  | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
host_prefix="$("$moto_python" -c 'import os, sys; print(os.path.realpath(sys.prefix))')"
packages=()
for lib in "${libs[@]}"; do
  case "$lib" in "$host_prefix"/*) continue ;; esac # libpython: copied above
  pkg="$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true)"
  pkg="${pkg%%:*}"
  [ -n "$pkg" ] || { echo "ERROR: no Debian package owns $lib (needed by the copied Python)" >&2; exit 1; }
  packages+=("$pkg")
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
echo "recipe: Debian runtime libraries: ${packages[*]}"
apt_install "${packages[@]}"

echo "$dest/lib" >"$ROOTFS/etc/ld.so.conf.d/outrig-python.conf"
in_chroot ldconfig
ln -sf "$dest/bin/python3.11" "$ROOTFS/usr/local/bin/python3"
# Nothing may be missing inside the image, whatever the host had.
missing="$(in_chroot sh -c "find $dest /usr/local/bin/python3 -name '*.so*' -type f -exec ldd {} + 2>/dev/null; ldd $dest/bin/python3.11" | grep 'not found' || true)"
[ -z "$missing" ] || { echo "ERROR: unresolved libraries in the image: $missing" >&2; exit 1; }
in_chroot python3 -m compileall -q -j 0 "$dest/lib" /opt/moto-dynamodb.py >/dev/null
in_chroot python3 /opt/moto-dynamodb.py --self-test
