#!/bin/bash
# Install what building and testing initshim needs (Debian 12, as root).
# Quick when everything is already there.
set -euo pipefail
pkgs=(gcc make libc6-dev libseccomp-dev libcmocka-dev util-linux procps
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross systemd-container dbus-daemon python3
      debhelper lintian libseccomp-dev:arm64 clang libclang-rt-14-dev
      musl-tools musl-dev musl-dev:arm64 tini catatonit
      patchelf # tools/make-bundle (version bundles, the e2e bed)
      prometheus) # promtool: checks the metrics and the example alert rules
export DEBIAN_FRONTEND=noninteractive
# make aarch64 links the arm64 libseccomp.a of Debian's multiarch package
# (it coexists with the amd64 one): apt needs the arm64 architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
        apt-get update -q
fi
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
