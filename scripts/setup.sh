#!/usr/bin/env bash
# Sets a fresh Debian machine up for Berth, idempotently: system packages, npm packages, build.
#   bash scripts/setup.sh            (as root)
# Re-running it is cheap: it installs only what is missing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (it installs system packages with apt)" >&2
  exit 1
fi

# Runtime: runc/crun + conmon; networking: CNI plugins, iptables, iproute2; zstd for zstd layers;
# busybox-static for the offline demo image; tini for --init; docker-registry (CNCF distribution)
# for the tests, and python3-docker (docker-py, a client the tests drive); gcc, zlib1g-dev and
# libssl-dev for the native extractor (static zlib + SHA-256).
want=(runc crun conmon containernetworking-plugins iptables iproute2 zstd busybox-static tini
      docker-registry python3-docker gcc libc6-dev zlib1g-dev libssl-dev make curl ca-certificates)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# docker-registry's package starts a system service on :5000; Berth's tests start their own.
if systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.berth-lock-hash
want_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_hash" ]; then
  npm ci --no-audit --no-fund
  echo "$want_hash" >"$stamp"
fi
npm run build --silent
echo "setup: done ($(node --version), $(runc --version | head -1), conmon $(conmon --version | head -1 | awk '{print $3}'))" >&2
