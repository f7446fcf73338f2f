#!/usr/bin/env bash
# Runs the PyTorch peer (peer.py) with Debian's PyTorch, which installs for the system's /usr/bin/python3.
#   bench/pytorch/peer.sh --install      install python3-torch and OpenBLAS with apt (as root), then stop
#   bench/pytorch/peer.sh [ARGS...]      /usr/bin/python3 peer.py ARGS (bench by default; --help lists the modes)
# Nothing here runs apt unless asked: the test suite and CI never need torch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${DISTILL_PEER_PYTHON:-/usr/bin/python3}"
if [[ "${1:-}" == "--install" ]]; then
  apt-get update
  # python3-torch accepts any libblas.so.3 and apt picks the reference BLAS (unoptimised loops, several times slower);
  # OpenBLAS's OpenMP build replaces it and shares PyTorch's OpenMP threads instead of starting a pool of its own.
  apt-get install -y python3-torch libopenblas0-openmp
  "$python" -c 'import torch; print("peer.sh: torch", torch.__version__, "for", __import__("sys").executable)'
  exit 0
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "peer.sh: $python has no torch; run 'bench/pytorch/peer.sh --install' (apt-get install python3-torch libopenblas0-openmp, as root)" >&2
  exit 3
fi
exec "$python" "$here/peer.py" "$@"
