#!/usr/bin/python3
"""PyTorch's side of tools/bench_distributed's all-reduce sizes: torch.distributed with gloo.

    /usr/bin/python3 tools/torch_bench_distributed.py [--ranks 2] [--min-time S]
                                                      [--min-size 1024] [--max-size 67108864]

(Debian's interpreter: it is the one that sees python3-torch.) Starts --ranks processes with
torch.multiprocessing, joined by a gloo process group over TCP on 127.0.0.1 (gloo has no
shared-memory transport: this is what PyTorch's CPU data parallelism uses on one machine, and
what bench_distributed sets beside Open MPI's shared-memory all-reduce). Rank 0 prints one line
`RESULT {json}` per size, bytes from --min-size to --max-size in powers of 2.

Protocol, as bench_distributed's: float32 zeros of bytes / 4 elements; 3 untimed calls; rank 0's
last warm-up time decides the iteration count for all ranks (min_time / time, clamped to
[5, 20000]); every timed call follows a barrier; an iteration's time is the mean over the ranks
(an all-reduce of the per-rank times afterwards); median, min and max over the iterations.
Keys: kind "allreduce", backend "gloo", ranks, bytes, iters, median_us, min_us, max_us,
algbw_gbs (bytes / median), busbw_gbs (2 (N-1) / N * bytes / median).

Without torch (or without torch.distributed / gloo) it prints `RESULT {"error": ...}` and
exits with 0, so the caller can say why the comparison is missing.
"""
import argparse
import json
import math
import os
import socket
import statistics
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sizes(min_size, max_size):
    size = min_size
    while size <= max_size:
        yield size
        size *= 2


def worker(rank, args, port):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)  # one core per rank, as bench_distributed's ranks
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=args.ranks)
    n = args.ranks
    for size in sizes(args.min_size, args.max_size):
        buffer = torch.zeros(size // 4, dtype=torch.float32)

        def timed_call():
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buffer)
            return time.perf_counter() - t0

        warm = 0.0
        for _ in range(3):
            warm = timed_call()
        estimate = torch.tensor([warm], dtype=torch.float64)
        dist.broadcast(estimate, 0)
        per_call = estimate.item()
        wanted = math.ceil(args.min_time / per_call) if per_call > 0 else 20000
        iters = max(5, min(20000, wanted))
        times = torch.tensor([timed_call() for _ in range(iters)], dtype=torch.float64)
        dist.all_reduce(times)
        times = (times / n).tolist()
        med = statistics.median(times)
        if rank == 0:
            print("RESULT " + json.dumps({
                "kind": "allreduce", "backend": "gloo", "ranks": n, "bytes": size,
                "iters": iters, "median_us": med * 1e6, "min_us": min(times) * 1e6,
                "max_us": max(times) * 1e6, "algbw_gbs": size / med / 1e9,
                "busbw_gbs": 2.0 * (n - 1) / n * size / med / 1e9}), flush=True)
    dist.barrier()
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="seconds of timed calls per size, at least (default 1.0)")
    parser.add_argument("--min-size", type=int, default=1024, help="bytes (default 1024)")
    parser.add_argument("--max-size", type=int, default=64 << 20, help="bytes (default 64 MiB)")
    args = parser.parse_args()
    if args.ranks < 2 or args.min_size < 4 or args.max_size < args.min_size:
        print("torch_bench_distributed.py: need --ranks >= 2 and 4 <= --min-size <= --max-size",
              file=sys.stderr)
        return 2
    try:
        import torch
        import torch.distributed as dist
        import torch.multiprocessing as mp
        if not dist.is_available() or not dist.is_gloo_available():
            raise ImportError("torch.distributed with gloo is not available in torch "
                              + torch.__version__)
    except ImportError as e:
        print("RESULT " + json.dumps({"error": "PyTorch: %s" % e}), flush=True)
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(worker, args=(args, free_port()), nprocs=args.ranks, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
