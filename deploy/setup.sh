#!/usr/bin/env bash
# Idempotent machine set-up for building and testing Picket on Debian 12 (bookworm).
#
# Installs, from Debian's packages, whatever of the list below is missing, and
# is a quick no-op (one dpkg-query) when everything is there. Run by
# `make demo` and `make test`; safe to run by hand at any time.
#
#   PICKET_SETUP_SKIP=1   skip entirely (for machines managed some other way)
set -euo pipefail

if [ "${PICKET_SETUP_SKIP:-0}" = "1" ]; then
  echo "setup: skipped (PICKET_SETUP_SKIP=1)"
  exit 0
fi

# Build tools and the C libraries our -sys crates link against.
packages=(
  pkg-config clang libclang-dev libsqlite3-dev
  # GStreamer: camera ingest, clips and the simulated RTSP cameras.
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libgstrtspserver-1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-tools gstreamer1.0-rtsp gstreamer1.0-x
  # FFmpeg: remuxing and thumbnails without re-encoding.
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev ffmpeg
  # A second broker implementation for the isolation tests and benchmarks.
  mosquitto mosquitto-clients
  # The demo talks to the operator API.
  curl python3
  # A real SMTP server for the e-mail tests and the demo.
  python3-aiosmtpd
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} system packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi

echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
