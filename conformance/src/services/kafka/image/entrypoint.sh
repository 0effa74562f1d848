#!/bin/sh
# Writes server.properties from defaults plus every KAFKA_* variable (the official image's
# convention: _ is ., __ is _, ___ is -), formats the KRaft storage on first start, then runs
# the broker. Single node: broker and controller in one process. `kafka-format` only formats
# (the image build does that once, so a container start runs one JVM, not two).
set -e
if [ "$#" -gt 0 ] && [ "$1" != "kafka" ] && [ "$1" != "kafka-format" ]; then exec "$@"; fi

config=/opt/kafka/server.properties
cat >"$config" <<'PROPS'
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://localhost:9092
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.voters=1@127.0.0.1:9093
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.partitions=1
PROPS
echo "log.dirs=/var/lib/kafka/data" >>"$config"
for var in $(env | sed -n 's/^\(KAFKA_[A-Z0-9_]*\)=.*/\1/p'); do
  case "$var" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JMX_OPTS | KAFKA_GC_LOG_OPTS) continue ;;
  esac
  key="$(echo "${var#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')"
  printf '%s=%s\n' "$key" "$(printenv "$var")" >>"$config"
done

classpath='/opt/kafka/libs/*'
logging="-Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.kafka.server=info"
data_dir="$(sed -n 's/^log\.dirs=//p' "$config" | tail -1)"
cluster_id="${CLUSTER_ID:-4L6g3nShT-eMCtK--X86sw}"
if [ -f "$data_dir/meta.properties" ] && ! grep -qx "cluster.id=$cluster_id" "$data_dir/meta.properties"; then
  echo "outrig-kafka: storage was formatted for another cluster id; formatting again" >&2
  rm -rf "${data_dir:?}"/* "${data_dir:?}"/.[!.]*
fi
if [ ! -f "$data_dir/meta.properties" ]; then
  # shellcheck disable=SC2086
  java -XX:TieredStopAtLevel=1 $logging -cp "$classpath" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$config" --ignore-formatted
fi
[ "${1:-}" = "kafka-format" ] && exit 0
# C1 only: a test broker lives for minutes, so a fast start beats peak throughput.
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:TieredStopAtLevel=1} \
  -Djava.awt.headless=true $logging ${KAFKA_OPTS:-} -cp "$classpath" kafka.Kafka "$config"
