#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh machine: the Debian packages the
# proxy tests start (listed in .ci/apt-packages), pnpm, and the workspace's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2

if [ -f .ci/apt-packages ] && command -v dpkg >/dev/null 2>&1; then
  missing=()
  while read -r package; do
    [ -n "$package" ] && [ "${package#\#}" = "$package" ] || continue
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done < .ci/apt-packages
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  npm i -g "pnpm@$PNPM_VERSION"
fi

pnpm install --frozen-lockfile
