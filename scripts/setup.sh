#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for systemkit: system packages, then systemkit itself (editable,
# with the dev extras). Idempotent: safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  docker.io            # Docker Engine: the docker backend and its tests
  docker-registry      # an OCI registry on 127.0.0.1 for the registry tests
  qemu-system-x86      # boots the built systems
  busybox-static       # the example system's userland
  runc                 # the example system's container runtime
  cpio                 # inspecting initrds
  skopeo umoci         # cross-checking OCI layouts in tests
  iproute2 procps      # dockerd / registry management from the test setup
  openssh-server       # a real sshd on 127.0.0.1 for the docker backend's ssh:// test
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[dev]" --config-settings editable_mode=compat 2>&1 | grep -v -E "^WARNING: (Running pip as|Location)" || true
python3 -c "import systemkit" >/dev/null
echo "setup: ok"
