# Sourced by scripts/test.sh (bash, `set -euo pipefail`): makes the conformance test services
# available through testcontainers on a machine with no Docker engine and no container registry.
#  1. installs podman, runc and debootstrap (and prometheus, for the metrics test, and chromium, for
#     the dashboard test) from Debian if missing;
#  2. configures podman to run containers here (runc + cgroupfs; crun cannot raise rlimits here);
#  3. starts podman's Docker-compatible API socket and points testcontainers at it;
#  4. builds the local service images (idempotent) and selects them through OUTRIG_TEST_*_IMAGE
#     (each service's tag is in conformance/src/services/<service>/image/image.json);
#  5. registers an EXIT trap that removes leftover test containers, even when tests fail.
# Set OUTRIG_SERVICES_SKIP=1 to do nothing (e.g. when every OUTRIG_TEST_*_URL points at a service).
# shellcheck shell=bash

outrig_services_log() { echo "services-up: $*" >&2; }

outrig_services_up() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

  if [ "$(id -u)" != "0" ]; then
    outrig_services_log "must run as root (podman's system socket and debootstrap need it)"
    return 1
  fi

  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The Kafka image's jars come from Maven Central through mvn.
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [ "${#missing[@]}" -gt 0 ]; then
    outrig_services_log "installing ${missing[*]} from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # With recommends: the set verified to run containers here (netavark/CNI, slirp4netns, ...).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" runc ca-certificates >&2
  fi

  # The runtime's metrics test scrapes the sidecar with a real Prometheus (Debian's package;
  # without recommends: the node exporter and its web assets are not needed).
  if ! command -v prometheus >/dev/null 2>&1; then
    outrig_services_log "installing prometheus from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2; }
  fi

  # The CLI's dashboard test drives a real headless browser: Debian's chromium, through
  # playwright-core with executablePath (playwright's own browser downloads cannot be fetched here).
  if [ ! -x /usr/bin/chromium ]; then
    outrig_services_log "installing chromium from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2; }
  fi

  outrig_services_configure_podman

  export DOCKER_HOST="${OUTRIG_PODMAN_SOCKET:-unix:///run/podman/podman.sock}"
  local socket_path="${DOCKER_HOST#unix://}"
  if ! curl -fsS --unix-socket "$socket_path" http://d/_ping >/dev/null 2>&1; then
    outrig_services_log "starting podman system service on $DOCKER_HOST"
    mkdir -p "$(dirname "$socket_path")"
    rm -f "$socket_path"
    setsid podman system service --time=0 "$DOCKER_HOST" >/var/log/outrig-podman-service.log 2>&1 </dev/null &
    local i
    for i in $(seq 1 50); do
      curl -fsS --unix-socket "$socket_path" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.2
    done
    if ! curl -fsS --unix-socket "$socket_path" http://d/_ping >/dev/null 2>&1; then
      outrig_services_log "podman system service did not answer on $socket_path; see /var/log/outrig-podman-service.log"
      return 1
    fi
  fi
  outrig_services_log "podman API answering on $DOCKER_HOST ($(podman --version))"
  # The reaper image cannot be pulled here; leftovers are removed by the EXIT trap below instead.
  export TESTCONTAINERS_RYUK_DISABLED=true
  # Keep test traffic on loopback instead of the bridge gateway address.
  export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1

  outrig_services_log "building local service images (skips the ones that exist)"
  if ! bash "$here/build-images.sh"; then
    outrig_services_log "building the service images FAILED (see above)"
    return 1
  fi
  # OUTRIG_TEST_<SERVICE>_IMAGE for every service folder, from its image.json (a value already
  # in the environment wins).
  local exports var
  exports="$(bash "$here/build-images.sh" --exports)" || {
    outrig_services_log "reading the service images' tags FAILED (see above)"
    return 1
  }
  eval "$exports"
  for var in $(sed -n 's/^export \(OUTRIG_TEST_[A-Z0-9_]*_IMAGE\)=.*/\1/p' <<<"$exports"); do
    outrig_services_log "$var=${!var}"
  done

  # Labels this run's containers (see src/services/service.ts) so the teardown finds them.
  export OUTRIG_TEST_RUN_ID="${OUTRIG_TEST_RUN_ID:-run-$$-$(date +%s)}"
  outrig_services_teardown # leftovers of crashed runs
  outrig_services_register_teardown
}

outrig_services_configure_podman() {
  local conf=/etc/containers/containers.conf
  mkdir -p /etc/containers
  if [ -f "$conf" ] && grep -q '^runtime *= *"runc"' "$conf" && grep -q '^cgroup_manager *= *"cgroupfs"' "$conf" \
    && grep -q '^default_ulimits' "$conf"; then
    return 0
  fi
  if [ -s "$conf" ]; then
    # Keep whatever else is configured; only the three keys this machine needs are set.
    cp "$conf" "$conf.outrig-backup"
    outrig_services_log "adjusting $conf (backup in $conf.outrig-backup)"
    python3 - "$conf" <<'PY' 2>/dev/null || outrig_services_write_conf "$conf"
import re, sys
path = sys.argv[1]
text = open(path).read()
def put(text, table, key, value):
    line = f"{key} = {value}"
    if re.search(rf"^{key}\s*=.*$", text, re.M):
        return re.sub(rf"^{key}\s*=.*$", line, text, count=1, flags=re.M)
    if re.search(rf"^\[{table}\]\s*$", text, re.M):
        return re.sub(rf"^\[{table}\]\s*$", f"[{table}]\n{line}", text, count=1, flags=re.M)
    return text.rstrip("\n") + f"\n[{table}]\n{line}\n"
text = put(text, "containers", "default_ulimits", '["nofile=4096:4096", "nproc=4096:4096"]')
text = put(text, "engine", "runtime", '"runc"')
text = put(text, "engine", "cgroup_manager", '"cgroupfs"')
open(path, "w").write(text)
PY
  else
    outrig_services_log "writing $conf (runc, cgroupfs, default ulimits)"
    outrig_services_write_conf "$conf"
  fi
}

outrig_services_write_conf() {
  cat >"$1" <<'TOML'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
TOML
}

# Removes this run's test containers and those whose starting process is gone (crashed runs);
# containers of other live test processes sharing the engine are left alone.
outrig_services_teardown() {
  local id run pid doomed=()
  while read -r id run pid; do
    [ -n "$id" ] || continue
    # ("-" ends the run id field so an empty one still reads as a field.)
    if { [ -n "${OUTRIG_TEST_RUN_ID:-}" ] && [ "$run" = "$OUTRIG_TEST_RUN_ID-" ]; } \
      || ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
      doomed+=("$id")
    fi
  done < <(podman ps -a --filter label=outrig.test=true \
    --format '{{.ID}} {{index .Labels "outrig.run"}}- {{index .Labels "outrig.pid"}}' 2>/dev/null || true)
  if [ "${#doomed[@]}" -gt 0 ]; then
    echo "services-up: removing leftover test containers: ${doomed[*]}" >&2
    podman rm -f -t 2 "${doomed[@]}" >/dev/null 2>&1 || true
  fi
}

outrig_services_on_exit() {
  local status=$?
  set +e
  outrig_services_teardown
  if [ -n "${OUTRIG_SERVICES_PREVIOUS_EXIT_TRAP:-}" ]; then
    (exit "$status") # the earlier handler sees the script's status in $?
    eval "$OUTRIG_SERVICES_PREVIOUS_EXIT_TRAP"
  fi
  exit "$status"
}

outrig_services_register_teardown() {
  # Chain the EXIT trap that was there: teardown first, then the earlier handler, and the
  # script's exit status is kept. `eval set --` undoes the quoting of `trap -p`.
  local previous
  previous="$(trap -p EXIT)"
  if [ -n "$previous" ]; then
    eval "set -- $previous"
    [ "$3" = "outrig_services_on_exit" ] || OUTRIG_SERVICES_PREVIOUS_EXIT_TRAP="$3"
  fi
  trap outrig_services_on_exit EXIT
}

if [ "${OUTRIG_SERVICES_SKIP:-0}" = "1" ]; then
  outrig_services_log "OUTRIG_SERVICES_SKIP=1: not starting podman nor building images"
else
  outrig_services_up
fi
