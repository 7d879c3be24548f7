#!/usr/bin/env bash
# Install what wsconform needs on Debian 12 (idempotent), then configure and
# build into build/. Run as root, or as a user with sudo.
#   scripts/setup.sh               packages + build
#   scripts/setup.sh --deps        packages only
#   scripts/setup.sh --test-deps   also what the tests need (Chromium, Node.js
#                                  and npm's `ws` for the third-party peers)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev libssl-dev zlib1g-dev
      python3 python3-pytest python3-websockets)
mode="${1:-}"
if [ "$mode" = "--test-deps" ]; then
	PKGS+=(chromium nodejs)
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$mode" = "--test-deps" ]; then
	# nodejs from some apt sources ships npm, from others not.
	if ! command -v npm >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq npm
	fi
	if [ -x scripts/peers/install.sh ]; then
		scripts/peers/install.sh
	fi
fi
[ "$mode" = "--deps" ] && exit 0

if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release >/dev/null
fi
ninja -C build >build/ninja.log 2>&1 || { cat build/ninja.log; exit 1; }
echo "setup: built into build/ (wsconform: build/harness/wsconform)"
