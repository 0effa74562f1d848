apt_install rabbitmq-server
# guest/guest from outside the container, as in the official image (clients arrive through the
# port mapping, which RabbitMQ does not count as loopback).
cat >"$ROOTFS/etc/rabbitmq/rabbitmq.conf" <<'CONF'
loopback_users = none
listeners.tcp.default = 5672
CONF
rm -f "$ROOTFS/etc/rabbitmq/rabbitmq-env.conf"
rm -rf "$ROOTFS/var/lib/rabbitmq/mnesia"
