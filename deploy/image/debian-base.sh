#!/usr/bin/env bash
# A Debian bookworm base image with Python 3.11, built locally from Debian's packages with
# debootstrap, for machines that cannot pull python:3.11-slim-bookworm from a registry.
#   deploy/image/debian-base.sh [IMAGE]      default IMAGE: localhost/retail-base:bookworm
# Needs root, debootstrap and podman. Prints the image name; does nothing if it exists.
set -euo pipefail
image=${1:-localhost/retail-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >&2
# What a slim image leaves out: package lists and caches, documentation, translations.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/log/*
tar -C "$rootfs" -c . | podman import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$image" >&2
echo "$image"
