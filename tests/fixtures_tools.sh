#!/bin/sh
# Installs the encoders the audio tests make their fixtures with, where any is missing.
# Debian/Ubuntu; run as root (CI) or with sudo. Tests lacking a tool skip and name its package.
set -e
missing=""
for pair in ffmpeg:ffmpeg lame:lame oggenc:vorbis-tools opusenc:opus-tools flac:flac; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "audio test tools missing:$missing (install them; the tests that need them skip)" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing; } >/dev/null; then
    echo "could not install:$missing (apt-get install$missing); the tests that need them skip" >&2
fi
