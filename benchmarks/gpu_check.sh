#!/usr/bin/env bash
# Everything a GPU machine should check, in one command (docs/gpu.md), within 10 minutes:
# the environment, `pytest -m gpu` (every primitive on the GPU against NumPy), compute-sanitizer
# memcheck and racecheck on every kernel with CuPy's memory pool off, one NCCL rank per GPU of distributed
# fit (gpu_nccl.py), then gpu_train.py's tables.
# Logs and tables go under $OUT (default runs/gpu-check); the exit status is 1 if any step failed.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.txt
    local name=$1 limit=$2; shift 2
    echo "== $name: $*"
    if timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1; then echo "   ok"; else echo "   FAILED ($?)"; status=1; fi
    tail -n 5 "$OUT/$name.txt" | sed 's/^/   /'
}
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
step env 60 bash -c 'nvidia-smi -L; python -c "import cupy; cupy.show_config()"; python -c "import torch; print(\"torch\", torch.__version__, torch.version.cuda)"'
step pytest_gpu 200 python -m pytest -m gpu -x -q -p no:cacheprovider tests/gpu
step memcheck 90 "$sanitizer" --tool memcheck --error-exitcode 1 python benchmarks/gpu_sanitize.py
step racecheck 90 "$sanitizer" --tool racecheck --error-exitcode 1 python benchmarks/gpu_sanitize.py
step nccl 120 bash -c 'pip install -q mpi4py mpich "nvidia-nccl-cu${CUDA_MAJOR:-13}" && mpiexec -n "$(nvidia-smi -L | wc -l)" python benchmarks/gpu_nccl.py'
step gpu_train 300 python benchmarks/gpu_train.py --out "$OUT"
cat "$OUT/gpu_table.md" 2>/dev/null
exit $status
