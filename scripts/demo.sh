#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine (as root):
#   1. set up (Debian packages + systemkit itself),
#   2. make the hello system's images from Debian packages (kernel, busybox, runc; .debs cached),
#   3. import them into a local image store,
#   4. build examples/hello/system.py into kernel+initrd with the native backend,
#   5. boot it under qemu (TCG) with the serial console on this terminal; the guest powers off.
# Environment: DEMO_DIR (images and image store, default out/demo), DEMO_OUT (the build, default
# out/hello), DEMO_TIMEOUT (seconds, default 120), DEMO_ACCEL (qemu accelerator, default tcg),
# DEMO_SKIP_SETUP=1 (skip step 1, when scripts/setup.sh has already run).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-out/demo}
DEMO_OUT=${DEMO_OUT:-out/hello}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-120}
DEMO_ACCEL=${DEMO_ACCEL:-tcg}
IMAGES="$DEMO_DIR/images"
export SYSTEMKIT_CACHE="$DEMO_DIR/cache"   # the image store the build reads

step() { printf '\n== %s\n' "$*"; }

if [ "${DEMO_SKIP_SETUP:-}" != 1 ]; then
  step "set up"
  bash scripts/setup.sh
fi
VENV=${SYSTEMKIT_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"   # systemkit and its Python, from the project's virtual environment

step "make the hello images from Debian packages -> $IMAGES"
python examples/hello/make_images.py "$IMAGES"

step "import them into the image store $SYSTEMKIT_CACHE"
systemkit cache import "$IMAGES"/*.oci.tar

step "build examples/hello/system.py (kernel+initrd, native backend) -> $DEMO_OUT"
systemkit build examples/hello/system.py --format kernel+initrd --dir "$DEMO_OUT"
ls -l "$DEMO_OUT"

step "boot $DEMO_OUT/hello under qemu -accel $DEMO_ACCEL (console below; the guest powers off)"
systemkit run qemu "$DEMO_OUT/hello" --timeout "$DEMO_TIMEOUT" --accel "$DEMO_ACCEL"
step "done: the system booted, ran its onboot container and its service with runc, and powered off"
