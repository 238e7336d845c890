#!/bin/sh
# Generates ./configure from configure.ac (autopoint brings gettext's po/ rules).
set -e
cd "$(dirname "$0")"
autoreconf --install --force
