#!/bin/sh
# Builds the libtorch-style programs of tests/libtorch/ against an installed minidl exactly as a
# libtorch user would build them -- g++ app.cpp $(pkg-config --cflags --libs minidl-torch), the
# sources unchanged -- and runs the ones named (all by default) with short settings.
#   tests/libtorch_test.sh BUILD_DIR DATA_ROOT [PROGRAM...]
# DATA_ROOT holds (Fashion-)MNIST's IDX files, raw or .gz. Prints the programs' output; exits
# non-zero if a build or a program fails.
set -e
cd "$(dirname "$0")/.."
build="${1:-build}"
data="${2:-/usr/share/datasets/fashion-mnist}"
shift 2 || true
programs="${*:-regression autograd sequence mnist dcgan}"
prefix="$(pwd)/$build/libtorch-test"
rm -rf "$prefix"
mkdir -p "$prefix"
make -s install PREFIX="$prefix" BUILD="$build" > /dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
for p in $programs; do
  g++ -O2 -Wall -Wextra -Werror "tests/libtorch/$p.cpp" $(pkg-config --cflags --libs minidl-torch) -o "$prefix/$p"
done
for p in $programs; do
  echo "== $p"
  case "$p" in
    mnist) "$prefix/mnist" "$data" 300 ;;
    dcgan) "$prefix/dcgan" "$data" 300 "$prefix" ;;
    *) "$prefix/$p" ;;
  esac
done
