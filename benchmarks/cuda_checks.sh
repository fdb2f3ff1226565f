#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one script (run on a GPU machine; CI has none):
# the CUDA tests (deselected elsewhere), then the torch engine at n = 1,000,000 x 384 on
# the GPU against the float32 floor, with peak GPU memory and the whole CLI run timed.
# Logs go to $LOGS (default: the current folder).
set -o pipefail
logs=${LOGS:-.}
export PYTHONUNBUFFERED=1
nvidia-smi -L || exit 1
python3 -c "import torch, numpy, numba; print('torch', torch.__version__, 'numpy', numpy.__version__, \
'numba', numba.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
timeout "${TEST_TIMEOUT:-180}" python3 -m pytest -q -p no:cacheprovider -m cuda \
    tests/test_torch_engine.py tests/test_torch_cli.py 2>&1 | tee "$logs/cuda-tests.log"
tests=$?
timeout "${BENCH_TIMEOUT:-330}" python3 benchmarks/bench_torch.py --device cuda --sizes "${SIZES:-1000000}" \
    --no-numba --cli 2>&1 | tee "$logs/cuda-bench.log"
bench=$?
echo "cuda tests exit $tests, benchmark exit $bench"
[ "$tests" = 0 ] && [ "$bench" = 0 ]
