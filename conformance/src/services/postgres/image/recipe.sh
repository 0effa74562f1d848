apt_install postgresql-15
# The package's own cluster is replaced by one the entrypoint creates, from the same environment
# variables the official image reads.
in_chroot sh -c 'pg_dropcluster --stop 15 main 2>/dev/null || true'
rm -rf "$ROOTFS/var/lib/postgresql/15" "$ROOTFS/etc/postgresql/15"
mkdir -p "$ROOTFS/var/lib/postgresql/data" "$ROOTFS/var/run/postgresql"
in_chroot chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
# Initialise the cluster once with the settings src/services/postgres.ts passes, so a test
# container starts without running initdb.
install -m 0755 "$RECIPE_DIR/entrypoint.sh" "$ROOTFS/usr/local/bin/outrig-entrypoint"
in_chroot env POSTGRES_USER=postgres POSTGRES_PASSWORD=outrig POSTGRES_DB=outrig \
  PGDATA=/var/lib/postgresql/data /usr/local/bin/outrig-entrypoint postgres-init
test -s "$ROOTFS/var/lib/postgresql/data/PG_VERSION"
