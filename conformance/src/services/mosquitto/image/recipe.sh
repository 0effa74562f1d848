apt_install mosquitto
# The same file name as in the official image: one anonymous listener on every interface
# (Mosquitto 2 otherwise listens on loopback only). No persistence: test data is throwaway.
cat >"$ROOTFS/mosquitto-no-auth.conf" <<'CONF'
listener 1883
allow_anonymous true
persistence false
log_dest stdout
user mosquitto
CONF
