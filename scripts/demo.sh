#!/usr/bin/env bash
# The main job, offline: make a tiny image from the host's busybox-static, store it in Berth,
# list and inspect it, run it. The berth CLI starts the daemon on first use (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
berth=./bin/berth
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

started_here=0
# Did a daemon already answer on the default socket? (Any berth command would start one.)
if [ -z "${BERTH_HOST:-}${DOCKER_HOST:-}" ] && ! curl -sf --unix-socket /run/berth/berth.sock http://berth/_ping >/dev/null 2>&1; then
  started_here=1
fi

bb=$(command -v busybox)
mkdir -p "$work/rootfs"/{bin,etc,proc,sys,dev,tmp,root}
cp "$bb" "$work/rootfs/bin/busybox"
for a in $("$work/rootfs/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"
echo 'root:x:0:' >"$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .

echo "== berth import (busybox-static from the host)"
$berth import "$work/busybox.tar" berth-demo/busybox:latest
echo "== berth images"
$berth images berth-demo/busybox
echo "== berth inspect"
$berth inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{index .RepoTags 0}}' berth-demo/busybox
if $berth run --help >/dev/null 2>&1; then
  echo "== berth run --rm berth-demo/busybox echo hello from berth"
  $berth run --rm berth-demo/busybox echo hello from berth
fi
if [ "$started_here" = 1 ] && [ "${BERTH_DEMO_KEEP_DAEMON:-}" != 1 ]; then
  # Leave the machine as we found it (CI runs this too); set BERTH_DEMO_KEEP_DAEMON=1 to keep it.
  pid=$(cat /run/berth/berth.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
fi
echo "demo: ok"
