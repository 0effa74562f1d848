#!/usr/bin/env bash
# Builds the conformance test service images with podman, without any container registry:
# a Debian bookworm minbase rootfs (debootstrap) is the shared base, each service adds its Debian
# packages (or Maven/npm artifacts) in a chroot, and `podman import` turns the tree into an image.
# Recipes live in each service's folder, conformance/src/services/<service>/image/ (image.json
# with the tag, recipe.sh, entrypoint.sh). Idempotent: an image that exists is skipped
# (OUTRIG_IMAGES_REBUILD=1 rebuilds).
# Usage: build-images.sh [service...] | build-images.sh --exports (prints the
# `export OUTRIG_TEST_<SERVICE>_IMAGE=...` lines services-up.sh evaluates; needs no root)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
services_dir="$(cd "$here/../src/services" && pwd)"
work="${OUTRIG_IMAGES_WORKDIR:-/var/cache/outrig-images}"
# Every service folder with an image recipe is a service: adding one needs no edit here.
mapfile -t all_services < <(find "$services_dir" -mindepth 3 -maxdepth 3 -path '*/image/image.json' -printf "%h\n" | xargs -rn1 dirname | xargs -rn1 basename | sort)

log() { echo "build-images: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

recipe_dir() { echo "$services_dir/$1/image"; }
# A field of <service>/image/image.json: a string, or an array printed one element a line.
image_field() {
  node -e '
    const [file, field] = process.argv.slice(1);
    const value = JSON.parse(require("node:fs").readFileSync(file, "utf8"))[field];
    if (value !== undefined) console.log([value].flat().join("\n"));
  ' "$(recipe_dir "$1")/image.json" "$2"
}
image_tag() { image_field "$1" tag; }
image_env_var() { local upper="${1^^}"; echo "OUTRIG_TEST_${upper//-/_}_IMAGE"; }

if [ "${1:-}" = "--exports" ]; then
  command -v node >/dev/null 2>&1 || die "node is needed to read image.json (source .ci/bootstrap.sh)"
  for svc in "${all_services[@]}"; do
    var="$(image_env_var "$svc")"
    printf 'export %s="${%s:-%s}"\n' "$var" "$var" "$(image_tag "$svc")"
  done
  exit 0
fi
services=("$@")
[ "${#services[@]}" -gt 0 ] || services=("${all_services[@]}")

[ "$(id -u)" = "0" ] || die "must run as root (debootstrap and chroot need it)"
for tool in podman debootstrap node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: apt-get install -y podman runc debootstrap"
done

# The Debian mirror this machine is configured with (never hard-coded).
debian_mirror() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri="$(awk '
      /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }
      /^$/ { u = "" }' /etc/apt/sources.list.d/*.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || die "no Debian bookworm mirror found in /etc/apt/sources.list*"
  echo "$uri"
}

# A digest of a service's recipe folder, stored as an image label: an image built from an older
# recipe is rebuilt, so a machine that keeps its images between runs never tests a stale one.
recipe_hash() {
  (cd "$(recipe_dir "$1")" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
image_is_current() {
  local tag="$1" svc="$2"
  [ "${OUTRIG_IMAGES_REBUILD:-0}" != "1" ] || return 1
  podman image exists "$tag" || return 1
  [ "$(podman image inspect --format '{{index .Config.Labels "outrig.recipe"}}' "$tag" 2>/dev/null)" = "$(recipe_hash "$svc")" ]
}

base_tar="$work/base-bookworm-minbase.tar"
build_base() {
  [ -s "$base_tar" ] && return 0
  local mirror start rootfs
  mirror="$(debian_mirror)"
  start=$SECONDS
  rootfs="$work/base.rootfs"
  rm -rf "$rootfs"
  mkdir -p "$work"
  log "debootstrap --variant=minbase bookworm (mirror from /etc/apt)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
  # Services must not start inside the build chroot.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod +x "$rootfs/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/99outrig"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/99outrig-nodoc"
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  tar -C "$rootfs" -cf "$base_tar.tmp" .
  mv "$base_tar.tmp" "$base_tar"
  rm -rf "$rootfs"
  log "base rootfs ready in $((SECONDS - start)) s"
}

mounted=()
cleanup_mounts() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m="${mounted[$i]}"
    umount -l "$m" 2>/dev/null || true
  done
  mounted=()
}
trap cleanup_mounts EXIT

# Helpers for the recipes.
in_chroot() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
apt_install() {
  in_chroot apt-get update -qq
  in_chroot apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  in_chroot apt-get clean
  rm -rf "$ROOTFS/var/lib/apt/lists/"*
}
export -f in_chroot apt_install

build_image() {
  local svc="$1" tag start
  tag="$(image_tag "$svc")"
  [ -n "$tag" ] || die "no \"tag\" in $(recipe_dir "$svc")/image.json"
  if image_is_current "$tag" "$svc"; then
    log "$tag is up to date, skipped"
    return 0
  fi
  start=$SECONDS
  local previous_id
  previous_id="$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  log "building $tag"
  export ROOTFS="$work/$svc.rootfs" RECIPE_DIR="$(recipe_dir "$svc")" WORK_DIR="$work"
  rm -rf "$ROOTFS"
  mkdir -p "$ROOTFS"
  tar -C "$ROOTFS" -xf "$base_tar"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  mount -t proc proc "$ROOTFS/proc" && mounted+=("$ROOTFS/proc")
  mount --bind /dev "$ROOTFS/dev" && mounted+=("$ROOTFS/dev")
  if ! bash -euo pipefail "$RECIPE_DIR/recipe.sh" >"$work/$svc.log" 2>&1; then
    tail -30 "$work/$svc.log" >&2
    cleanup_mounts
    die "recipe for $svc failed (log: $work/$svc.log)"
  fi
  cleanup_mounts
  install -m 0755 "$RECIPE_DIR/entrypoint.sh" "$ROOTFS/usr/local/bin/outrig-entrypoint"
  rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
  : >"$ROOTFS/etc/resolv.conf"
  rm -rf "$ROOTFS/var/lib/apt/lists/"* "$ROOTFS/var/cache/apt/"*.bin "$ROOTFS/tmp/"* "$ROOTFS/var/log/"*.log

  local changes=() line
  while IFS= read -r line; do
    [ -n "$line" ] && changes+=(--change "$line")
  done < <(image_field "$svc" changes)
  tar -C "$ROOTFS" -c . | podman import -q \
    --change 'ENTRYPOINT ["/usr/local/bin/outrig-entrypoint"]' \
    --change 'LABEL org.opencontainers.image.source=outrig/conformance/src/services' \
    --change "LABEL outrig.recipe=$(recipe_hash "$svc")" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$ROOTFS"
  # A rebuild leaves the old image untagged; drop it rather than fill the disk.
  if [ -n "$previous_id" ] && [ "$previous_id" != "$(podman image inspect --format '{{.Id}}' "$tag")" ]; then
    podman rmi "$previous_id" >/dev/null 2>&1 || true
  fi
  log "built $tag in $((SECONDS - start)) s ($(podman image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%d MB", $1 / 1000000 }'))"
}

pending=()
for svc in "${services[@]}"; do
  [ -f "$(recipe_dir "$svc")/image.json" ] || die "unknown service $svc (no $(recipe_dir "$svc")/image.json)"
  tag="$(image_tag "$svc")"
  image_is_current "$tag" "$svc" || pending+=("$svc")
done
if [ "${#pending[@]}" -eq 0 ]; then
  log "all images up to date: $(for s in "${services[@]}"; do printf '%s ' "$(image_tag "$s")"; done)"
  exit 0
fi
# One build at a time per machine: builds share the work directory and the base tarball.
mkdir -p "$work"
exec 9>"$work/.lock"
if ! flock -n 9; then
  log "another build holds $work/.lock; waiting"
  flock 9
fi
total=$SECONDS
build_base
for svc in "${pending[@]}"; do build_image "$svc"; done
log "done in $((SECONDS - total)) s"
