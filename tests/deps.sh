#!/bin/bash
# Install what building and testing initshim needs (Debian 12, as root).
# Quick when everything is already there.
set -euo pipefail
pkgs=(gcc make libc6-dev libseccomp-dev libcmocka-dev util-linux procps
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross systemd-container dbus-daemon python3
      clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
