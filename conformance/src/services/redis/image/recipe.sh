# Runs on the build host with ROOTFS set (see scripts/build-images.sh).
apt_install redis-server
mkdir -p "$ROOTFS/data"
# Like the official image: every interface, and protected mode off (there is no password, and
# clients come through the port mapping, not loopback). No snapshots: test data is throwaway.
cat >"$ROOTFS/etc/redis/outrig.conf" <<'CONF'
bind 0.0.0.0
protected-mode no
port 6379
dir /data
daemonize no
save ""
appendonly no
CONF
