#!/bin/sh
# Runs the broker as the rabbitmq user with a fixed node name (rabbit@localhost), so the data
# directory stays valid across a stop/start of the same container.
set -e
if [ "$#" -eq 0 ] || [ "$1" = "rabbitmq-server" ]; then
  home=/var/lib/rabbitmq
  mkdir -p "$home" /var/log/rabbitmq
  if [ ! -s "$home/.erlang.cookie" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$home/.erlang.cookie"
    chmod 600 "$home/.erlang.cookie"
  fi
  chown -R rabbitmq:rabbitmq "$home" /var/log/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME="$home" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
fi
exec "$@"
