#!/usr/bin/env python3
"""The README's performance table from `build/bench --contend 1 --json` output.

    build/bench --contend 1 --json > bench.jsonl
    python3 tools/bench_table.py bench.jsonl

One row per workload point: minidl and PyTorch medians on the idle machine and with the busy
processes competing, both ratios, minidl's idle single-thread median and how the contended time
compares with it, and both peak memories. Only the standard library is needed.
"""
import json
import sys


def ms(value):
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.2f} ms"


def ratio(value, bold_below=None):
    if not isinstance(value, (int, float)):
        return "-"
    text = f"{value:.2f}"
    return f"**{text}**" if bold_below is not None and value <= bold_below else text


def mib(value):
    return f"{value:.0f}" if isinstance(value, (int, float)) else "-"


def main(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    print("| workload | idle: minidl | PyTorch | ratio | busy: minidl | PyTorch | ratio "
          "| minidl 1 thread idle | busy / 1 thread | peak MiB minidl / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        name = f"{row['id']} {row['workload']}"
        if row.get("seq"):
            name += f" T={row['seq']}"
        if "error" in row:
            print(f"| {name} | error: {row['error']} |" + " |" * 8)
            continue
        print(
            f"| {name} | {ms(row.get('minidl_ms'))} | {ms(row.get('torch_ms'))} "
            f"| {ratio(row.get('ratio'))} | {ms(row.get('contended_minidl_ms'))} "
            f"| {ms(row.get('contended_torch_ms'))} | {ratio(row.get('contended_ratio'), 1.0)} "
            f"| {ms(row.get('minidl_single_thread_ms'))} "
            f"| {ratio(row.get('contended_vs_single_thread'), 1.5)} "
            f"| {mib(row.get('minidl_peak_mib'))} / {mib(row.get('torch_peak_mib'))} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench_table.py BENCH_JSONL (the output of build/bench --contend 1 --json)")
    main(sys.argv[1])
