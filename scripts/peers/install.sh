#!/usr/bin/env bash
# Install the third-party peers' dependencies (idempotent): node and npm from
# apt when missing, then the npm `ws` package (version 8) into
# scripts/peers/node_modules, pinned by package-lock.json.
# python3-websockets comes from scripts/setup.sh (apt).
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_install() {
	echo "peers: installing $*"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

command -v node >/dev/null 2>&1 || apt_install nodejs
command -v npm >/dev/null 2>&1 || apt_install npm

if [ -f node_modules/ws/package.json ] &&
	node -e 'process.exit(require("./node_modules/ws/package.json").version.split(".")[0]==="8"?0:1)'; then
	echo "peers: ws $(node -p 'require("./node_modules/ws/package.json").version') already installed"
	exit 0
fi
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund --prefix . >/dev/null
else
	npm install --no-audit --no-fund --prefix . ws@8 >/dev/null
fi
echo "peers: installed ws $(node -p 'require("./node_modules/ws/package.json").version')"
