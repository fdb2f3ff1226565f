"""The torch engine (exact float32 and bfloat16 screening) against the float32 floor.

Usage:
    python benchmarks/bench_torch.py                          # CPU, n = 20k and 100k, d = 384
    python benchmarks/bench_torch.py --sizes 100000 --no-numba
    python benchmarks/bench_torch.py --device cuda --sizes 1000000 --tile 16384 --no-numba --cli

One process per run. The floor is the bare float32 upper triangle of tile products on
the same device, measured in the same process as the engines it is compared with
(CPU: numpy's BLAS on all cores, the floor of benchmarks/bench_engine.py; CUDA: torch
float32 products, synchronised). Each engine's pass (run_all_pairs) is timed alone;
its counts (every threshold, opposed pairs, items), top and lowest pair lists and
nearest neighbours are compared with the first exact engine of the run. On CUDA the
peak GPU memory of each pass is printed; --cli also times the whole
`simreport run --engine torch --device cuda` on the same file (JSON and HTML).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import D, bare_floor, make_embeddings


def cpu_line() -> str:
    """CPU model and the flags that matter here."""
    model, flags = platform.processor() or "?", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")
    return f"CPU: {model}, {os.cpu_count()} cores; flags: {' '.join(f for f in wanted if f in flags) or 'none of'}"


def cuda_floor(unit, tile: int) -> float:
    """Seconds for the upper-triangle float32 tile products on the GPU alone."""
    import torch

    u = torch.from_numpy(unit).cuda()
    n = u.shape[0]
    torch.cuda.synchronize()
    start = time.perf_counter()
    for r0 in range(0, n, tile):
        rows = u[r0:r0 + tile]
        for c0 in range(r0, n, tile):
            rows @ u[c0:c0 + tile].T
    torch.cuda.synchronize()
    return time.perf_counter() - start


def same(a, b) -> tuple[bool, str]:
    """Whether two SimilarityStats agree on everything screening keeps exact.

    Two float32 evaluations of one pair (different BLAS, device, or the re-check's
    float64 sum) may differ by float32 rounding, so pairs whose values lie within that
    tolerance of each other may be listed in another order; such ties are counted, not
    failed. Counts must be equal except for borderline pairs.
    """
    from simreport.torch_engine import float32_tolerance

    eps = float32_tolerance(a.dim)
    diffs, ties = [], 0
    slack = b.borderline_total + a.borderline_total
    for ra, rb in zip(a.threshold_counts, b.threshold_counts, strict=True):
        if abs(ra["pairs"] - rb["pairs"]) > slack or abs(ra["items"] - rb["items"]) > 2 * slack:
            diffs.append(f"count at {ra['threshold']}")
    if abs(a.opposed_pairs - b.opposed_pairs) > slack or a.nn_above_threshold != b.nn_above_threshold:
        diffs.append("opposed or NN counts")
    for name in ("top_pairs", "lowest_pairs"):
        pa, pb = getattr(a, name), getattr(b, name)
        va, vb = np.array([p[2] for p in pa]), np.array([p[2] for p in pb])
        if len(pa) != len(pb) or (len(pa) and np.abs(va - vb).max() > eps):
            diffs.append(name)
            continue
        ties += sum(p[:2] != q[:2] for p, q in zip(pa, pb, strict=True))
        inside = {p[:2] for p in pa if abs(p[2] - pa[-1][2]) > eps}  # not a tie with the last kept value
        if not inside <= {p[:2] for p in pb}:
            diffs.append(name)
    moved = a.nn_index != b.nn_index
    if np.abs(a.nn_similarity - b.nn_similarity).max() > eps:
        diffs.append("nn_similarity")
    ties += int(moved.sum())
    if abs(a.min - b.min) > eps or abs(a.max - b.max) > eps:
        diffs.append("min/max")
    if diffs:
        return False, ", ".join(diffs)
    return True, f"{ties} ties within float32 rounding ordered differently" if ties else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tile", type=int, default=None, help="rows per tile [2048 on CPU, 16384 on CUDA]")
    parser.add_argument("--precisions", default="exact,screen")
    parser.add_argument("--no-numba", action="store_true", help="leave out the numba engine (threads)")
    parser.add_argument("--cli", action="store_true", help="also time the whole simreport run on the device")
    args = parser.parse_args()

    import torch

    from simreport import engine, runners
    from simreport.engine import EngineSettings, normalise_rows

    tile = args.tile or (16384 if args.device == "cuda" else 2048)
    device_name = "cpu"
    if args.device == "cuda":
        device_name = f"cuda ({torch.cuda.get_device_name(0)})"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"emb_{n}.npy"
            make_embeddings(n, path)
            unit = normalise_rows(np.load(path))
            runners.run_all_pairs(unit[:3000], EngineSettings(tile_size=1000))  # compile the kernel
            floor = cuda_floor(unit, tile) if args.device == "cuda" else bare_floor(unit, tile)
            runs = [] if args.no_numba else [("numba (threads)", "cpu", "exact", EngineSettings(tile_size=2048))]
            for precision in args.precisions.split(","):
                runs.append(("torch", args.device, precision,
                             EngineSettings(runner="torch", device=args.device, precision=precision, tile_size=tile)))
            reference = None
            for name, device, precision, settings in runs:
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                    torch.cuda.synchronize()
                start = time.perf_counter()
                partial = runners.run_all_pairs(unit, settings)
                seconds = time.perf_counter() - start
                peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
                stats = engine.finalize(partial, unit, unit, settings)
                info = stats.engine_info
                ran = info.get("precision", "exact")
                is_ref = reference is None and ran == "exact"
                if is_ref:
                    reference = (name, stats)
                ok, diff = same(reference[1], stats) if reference else (True, "")
                rows.append({"n": n, "engine": name, "device": device_name if device == "cuda" else "cpu",
                             "precision": ran + ("" if ran == precision else f" (asked {precision})"),
                             "seconds": seconds, "floor": floor, "same": ok, "diff": diff,
                             "is_ref": is_ref,
                             "rechecked": info.get("rechecked_pairs"), "borderline": stats.borderline_total,
                             "peak": peak, "tile": settings.tile_size})
                print(f"done n={n} {name} {precision}: {seconds:.1f} s", file=sys.stderr, flush=True)
            if args.cli:
                with tempfile.TemporaryDirectory() as out:
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "simreport", "run", str(path), "--engine", "torch",
                                    "--device", args.device, "--tile-size", str(tile), "--quiet",
                                    "--format", "json,html", "--output", str(Path(out) / "bench")], check=True)
                    rows[-1]["cli"] = time.perf_counter() - start
                    import json

                    laps = json.loads((Path(out) / "bench.json").read_text()).get("timings") or {}
                    rows[-1]["cli_laps"] = ", ".join(f"{k} {v:.1f} s" for k, v in laps.items())
            path.unlink()
    print(cpu_line())
    print(f"torch {torch.__version__}; d = {D}; floor: float32 tile products on the device "
          f"({'numpy BLAS' if args.device == 'cpu' else 'torch'}), same run")
    print("| n | engine | device | precision | tile | pass s | / float32 floor | floor s | counts, pairs, NN "
          "= exact | re-checked pairs | borderline | peak GPU MiB |")
    print("|---:|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        same_text = "reference" if r["is_ref"] else (
            ("yes" + (f" ({r['diff']})" if r["diff"] else "")) if r["same"] else f"no: {r['diff']}")
        peak = f"{r['peak'] / 2**20:,.0f}" if r["peak"] is not None else "-"
        print(f"| {r['n']:,} | {r['engine']} | {r['device']} | {r['precision']} | {r['tile']} | "
              f"{r['seconds']:.2f} | {r['seconds'] / r['floor']:.2f}x | {r['floor']:.2f} | {same_text} | "
              f"{r['rechecked'] if r['rechecked'] is not None else '-'} | {r['borderline']} | {peak} |")
    for r in rows:
        if "cli" in r:
            print(f"whole CLI run n={r['n']:,} (--engine torch --device {args.device}, JSON + HTML): {r['cli']:.1f} s "
                  f"(process start to exit; stages inside the test: {r['cli_laps'] or 'not recorded'})")


if __name__ == "__main__":
    main()
