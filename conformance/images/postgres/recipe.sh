apt_install postgresql-15
# The package's own cluster is replaced by one the entrypoint creates on first start, from the
# same environment variables the official image reads.
in_chroot sh -c 'pg_dropcluster --stop 15 main 2>/dev/null || true'
rm -rf "$ROOTFS/var/lib/postgresql/15" "$ROOTFS/etc/postgresql/15"
mkdir -p "$ROOTFS/var/lib/postgresql/data" "$ROOTFS/var/run/postgresql"
in_chroot chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
