#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for systemkit: system packages, then systemkit itself in the
# project's own virtual environment (.venv, editable, with the dev extras). Works with Debian's own
# python3 (PEP 668: nothing is installed into the system Python). Idempotent: safe to run again.
# Needs root (or sudo) for apt-get. Environment: SYSTEMKIT_VENV (default: .venv in this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv # the interpreter and venv (Debian's python3 has no ensurepip without it)
  docker.io            # Docker Engine: the docker backend and its tests
  docker-registry      # an OCI registry on 127.0.0.1 for the registry tests
  qemu-system-x86      # boots the built systems
  busybox-static       # the example system's userland; the systemkit.testing guest agent
  runc                 # the example system's container runtime
  cpio                 # inspecting initrds
  skopeo umoci         # cross-checking OCI layouts in tests
  iproute2 procps      # dockerd / registry management from the test setup
  openssh-server       # a real sshd on 127.0.0.1 for the docker backend's ssh:// test
  # the disk-image formats (systemkit/outputs/hosttools.py names which format needs what)
  xorriso mtools dosfstools fakeroot     # ISOs, FAT file systems, unpacking as a normal user
  grub-efi-amd64-bin grub-common         # GRUB for UEFI (iso-efi, iso-efi-initrd, qcow2-efi)
  syslinux syslinux-common isolinux      # BIOS boot (raw-bios, iso-bios)
  systemd-boot-efi binutils              # systemd-boot and the UKI stub, objcopy (uki, raw-efi)
  gdisk fdisk qemu-utils                 # GPT / MBR partition tables, qcow2
  squashfs-tools erofs-utils             # squashfs, erofs
  ovmf                                   # UEFI firmware: booting the EFI formats under qemu
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

VENV=${SYSTEMKIT_VENV:-$PWD/.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment $VENV with $(command -v python3)"
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
# Import the installed package from outside the checkout, so the check fails when the install did.
(cd / && "$VENV/bin/python" -c "import systemkit, sys; print('setup: ok:', systemkit.__file__, 'in', sys.prefix)")
