#!/bin/sh
# Installs the Debian packages minidl needs, only those missing. Called by the Makefile when
# its dependency stamp is absent; safe to run by hand. Needs root (or sudo) for apt-get.
#   tools/install_deps.sh            build + test dependencies (Fashion-MNIST: the libtorch-style
#                                    programs of the tests train on it; Graphviz: build/inspect
#                                    renders the tape as SVG/PNG with its `dot`)
#   tools/install_deps.sh --torch    also PyTorch (Debian's python3-torch) for benchmarks/fixtures
#   tools/install_deps.sh --data     also the tutorial models' data sets (tools/train): CMUdict,
#                                    word lists, fortunes, FreeDict German-English, Fashion-MNIST
#   tools/install_deps.sh --fuzz     also clang with libFuzzer and OpenMP headers (make fuzz) and
#                                    valgrind (make test-sanitize)
#   tools/install_deps.sh --mpi      also Open MPI (mpicxx, mpirun), which make then builds into
#                                    the data-parallel minidl::distributed (nn/distributed/)
set -e
packages="g++ make pkg-config libopenblas-openmp-dev catch2 zlib1g-dev libcli11-dev nlohmann-json3-dev libpng-dev gnuplot-nox dataset-fashion-mnist graphviz"
for option in "$@"; do
  case "$option" in
    --torch) packages="$packages python3-torch python3-numpy" ;;
    --fuzz) packages="$packages clang libclang-rt-dev libomp-dev valgrind" ;;
    --mpi) packages="$packages libopenmpi-dev openmpi-bin" ;;
    --data) packages="$packages pocketsphinx-en-us wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish fortunes fortunes-min dict-freedict-deu-eng dataset-fashion-mnist" ;;
    *) echo "install_deps.sh: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "minidl: installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
