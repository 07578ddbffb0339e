#!/bin/sh
# Installs minidl into a scratch prefix and builds tests/install/app.cpp against it exactly as the
# README tells users to: g++ app.cpp $(pkg-config --cflags --libs minidl), and a program that uses
# PNG and IDX files the same way. Prints the programs' output.
#   tests/install_test.sh BUILD_DIR
set -e
cd "$(dirname "$0")/.."
build="${1:-build}"
prefix="$(pwd)/$build/install-test"
rm -rf "$prefix"
# Install what this build directory holds: with MPI if it was built with `make MPI=1` (then
# minidl.pc requires Open MPI's ompi-c, and the programs link against it through pkg-config).
mpi=$(sed -n 's/^MPI=\([01]\).*/\1/p' "$build/nn/distributed/mpi-mode.txt" 2>/dev/null)
make -s install PREFIX="$prefix" BUILD="$build" MPI="${mpi:-0}" > /dev/null
echo "installed with MPI=${mpi:-0}: $(grep '^Requires' "$prefix/lib/pkgconfig/minidl.pc")"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
g++ tests/install/app.cpp $(pkg-config --cflags --libs minidl) -o "$prefix/app"
"$prefix/app"
g++ tests/install/io_app.cpp $(pkg-config --cflags --libs minidl) -o "$prefix/io_app"
"$prefix/io_app" "$prefix"
