#!/bin/sh
# Installs minidl into a scratch prefix and builds tests/install/app.cpp against it exactly as the
# README tells users to: g++ app.cpp $(pkg-config --cflags --libs minidl). Prints the app's output.
#   tests/install_test.sh BUILD_DIR
set -e
cd "$(dirname "$0")/.."
build="${1:-build}"
prefix="$(pwd)/$build/install-test"
rm -rf "$prefix"
make -s install PREFIX="$prefix" BUILD="$build" > /dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
g++ tests/install/app.cpp $(pkg-config --cflags --libs minidl) -o "$prefix/app"
"$prefix/app"
