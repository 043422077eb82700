#!/usr/bin/env bash
# The GPU check of Keras's JAX backend (keras_gan/benchmarks/gpu_check.py): the deck and dcgan trained a
# few hundred steps in float32 and mixed_bfloat16 on the GPU and on the CPU, images per second side by side.
# It runs on a machine with JAX and CUDA but no TensorFlow and no network, so it comes in two halves:
#
#   bash experiments/gpu_check.sh prepare   # here (pip's index at hand): .gpu_check/, the wheels and data
#   bash experiments/gpu_check.sh run       # there, in a copy of this tree with .gpu_check/ beside it
#
# prepare writes the wheels that machine lacks (keras and its namex and optree, for CPython 3.12; it has
# the rest of Keras's needs, matplotlib and Pillow) and this package's own, built without TensorFlow
# (KERAS_GAN_WITHOUT_TENSORFLOW=1), and the first 20,000 training and 2,000 test images of Fashion-MNIST
# (`make data`); it prints what the tree and the bundle weigh together, which must stay under 64 MiB.
# run installs the wheels with pip --no-index into /tmp/site and runs the check from /tmp, so that the
# installed package is the one imported; STEPS (300) and OUT (a folder for gpu_check.json) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUNDLE=.gpu_check
PYTHON=${PYTHON:-.venv/bin/python}
case "${1:-}" in
prepare)
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/wheels" "$BUNDLE/data"
  keras_version=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("keras"))')
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$BUNDLE/wheels" "keras==$keras_version" namex optree
  KERAS_GAN_WITHOUT_TENSORFLOW=1 "$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$BUNDLE/wheels" .
  rm -rf build keras_gan.egg-info
  "$PYTHON" -m keras_gan.benchmarks.gpu_check --data_dir="$BUNDLE/data" \
    --write_subset_of=/usr/share/datasets/fashion-mnist
  tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  bundle=$(du -sb "$BUNDLE" | cut -f1)
  echo "the tree $((tree / 1048576)) MiB + $BUNDLE $((bundle / 1048576)) MiB = $(((tree + bundle) / 1048576)) MiB (limit 64)"
  [ $((tree + bundle)) -lt $((64 * 1048576)) ] || { echo "too large to travel" >&2; exit 1; }
  ;;
run)
  [ -d "$BUNDLE/wheels" ] || { echo "no $BUNDLE/ here: run 'bash experiments/gpu_check.sh prepare' first" >&2; exit 2; }
  python3 -c 'import tensorflow' 2>/dev/null && echo "note: TensorFlow is installed here; the check uses JAX alone"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$BUNDLE"/wheels/*.whl
  export PYTHONPATH=/tmp/site KERAS_BACKEND=jax
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  cd /tmp && python3 -m keras_gan.benchmarks.gpu_check --data_dir="$ROOT/$BUNDLE/data" --steps="${STEPS:-300}" \
    --out="${OUT:-/tmp}/gpu_check.json"
  ;;
*)
  echo "usage: bash experiments/gpu_check.sh prepare|run" >&2
  exit 2
  ;;
esac
