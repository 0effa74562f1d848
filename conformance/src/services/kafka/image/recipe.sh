apt_install openjdk-17-jre-headless
mkdir -p "$ROOTFS/opt/kafka/libs" "$ROOTFS/var/lib/kafka/data"
mvn -q -B -f "$RECIPE_DIR/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$ROOTFS/opt/kafka/libs"
ls "$ROOTFS/opt/kafka/libs" | grep -q '^kafka_2.13-' || { echo "kafka jars missing" >&2; exit 1; }
# Format the KRaft storage for the default single-node config now, once, instead of at every start.
install -m 0755 "$RECIPE_DIR/entrypoint.sh" "$ROOTFS/usr/local/bin/outrig-entrypoint"
in_chroot /usr/local/bin/outrig-entrypoint kafka-format
test -f "$ROOTFS/var/lib/kafka/data/meta.properties"
