#!/usr/bin/python3
# PyTorch's side of minidl's benchmarks (BENCHMARKS.md W1..W9; minidl's side: tools/bench).
#
# W7/W9 as defined here (tools/bench must build the same; details in the docstring):
#   vit_step: Conv2d(1->64, k7, s7) -> 16 tokens, zero cls token first, + positions [17, 64]
#     (randn*0.02); 4 separate post-norm TransformerEncoderLayer(64, 4 heads, ff 128, ReLU,
#     dropout 0.1); Linear(64->10) on the cls token; batch 128; Adam(1e-3).
#   gat_step: 2708 nodes, 1433 binary features (p 0.0127, rows sum to 1), 5278 distinct random
#     undirected pairs = 10556 edges, + self loops; dropout 0.6 -> 8 heads x 8 (concat, ELU) ->
#     dropout 0.6 -> 1 head x 7 (no ELU) -> log_softmax, nll on nodes 0..139; attention
#     dropout 0.6; LeakyReLU 0.2; no biases; Adam(5e-3, weight decay 5e-4).
"""PyTorch's side of minidl's benchmarks (BENCHMARKS.md), one workload per process.

    /usr/bin/python3 tools/torch_bench.py --list
    /usr/bin/python3 tools/torch_bench.py NAME [--min-time S] [--threads N] [--json FILE]
    /usr/bin/python3 tools/torch_bench.py long_attention --seq 8192

(Debian's interpreter: it is the one that sees python3-torch 1.13.) Prints one human-readable
line, then `RESULT {json}`, which tools/bench reads. An unknown name exits with code 2; a
workload that fails reports {"error": ...} in its RESULT.

Protocol, as minidl's run_timed (tools/bench_workloads.cpp): float32, torch.manual_seed(0),
torch.set_num_threads(--threads, default 2). 3 untimed warm-up calls, then timed calls until at
least 20 ran and --min-time seconds (default 2) passed, at most 2000. long_attention has a budget
of ~60 s per point: warm-up stops early if one call times 23 exceeds it, and timing stops (after
at least 3 calls) when one more call would. Keys: iters, ms_median, ms_min, ms_max, cpu_per_wall
(own CPU s / wall s over the timed loop), minflt_per_iter, foreign_cpus (CPUs used by other
processes over the timed loop, from /proc/stat), peak_rss_mib (ru_maxrss), threads, workload,
seq (long_attention). Training workloads add loss_first (first timed loss) and loss_last, and an
error if a loss is not finite or the last is not below the first.

Workloads; W1-W6L and W8 have the shapes of tools/bench_workloads.cpp / bench_attention.cpp:
  gemm            W1  C = A @ B, 1024^3; gflops_median, gflops_best (2 n^3 flop).
  op_overhead     W2  10,000 scalar ops (y*1.0001, y+0.5) and y.backward(); us per op.
  mlp_step        W3  MLP 784-256-256-10, batch 64, cross-entropy, Adam(1e-3).
  lstm_step       W4  LSTM(128->256), seq 50, batch 32; backward of output.sum().
  cnn_step        W5  two conv-ReLU-maxpool blocks + 2 Linear, batch 64, Adam(1e-3).
  mha_step        W6  MultiheadAttention(256, 8, batch_first), [8, 512, 256]; output.sum().
  long_attention  W6L [1, T, 64], softmax(q k^T / 8) v and backward of out.sum(), T x T scores
                      materialized (1.13 has no public fused kernel); matmul_gflops_median
                      counts 12 T^2 d flop (2 forward + 4 backward matmuls), as minidl does.
  vit_step        W7  below.
  nmt_step        W8  Bahdanau-attention seq2seq, batch 64, 20 + 20 steps, Adam(1e-3).
  gat_step        W9  below.

W7 vit_step: Conv2d(1->64, kernel 7, stride 7) cuts 28x28x1 into 4x4 = 16 tokens (row-major); a
learned cls token (initialized to zeros) goes first; learned position embeddings for the 17
positions (initialized randn * 0.02) are added. Then 4 independently initialized
nn.TransformerEncoderLayer(d_model 64, nhead 4, dim_feedforward 128, dropout 0.1,
batch_first=True): post-norm, ReLU, LayerNorm eps 1e-5, dropout on the attention weights, after
attention, after the ReLU and after the feed-forward. No final LayerNorm; Linear(64->10) on the
cls token's output. x = randn(128, 1, 28, 28), y = randint(0, 10); train mode; cross-entropy;
Adam(lr 1e-3).

W9 gat_step: the two-layer GAT of Velickovic et al. as in the pyGAT tutorial, in its dense masked
form. A random Cora-sized graph (seeded): 2708 nodes; 1433 binary bag-of-words features (each 1
with probability 0.0127, about Cora's 18 words a node), each row divided by its sum (an empty row
stays zero); 5278 distinct random undirected pairs (i != j) taken in both directions = 10556
directed edges, plus a self loop at every node; labels randint(0, 7); nodes 0..139 are the
training nodes. Model: dropout 0.6 on the features -> layer 1: 8 heads x 8 features,
concatenated (64), ELU -> dropout 0.6 -> layer 2: 1 head x 7 classes (the mean over its one
head), no ELU -> log_softmax -> nll_loss over the training nodes. One head: Wh = h W (no bias),
e_ij = LeakyReLU(a_src . Wh_i + a_dst . Wh_j, slope 0.2) on each edge j -> i and -9e15 elsewhere,
softmax over j, dropout 0.6 on the coefficients, out_i = sum_j att_ij Wh_j. W and a = [a_src;
a_dst] initialized xavier_uniform, gain 1.414. Adam(lr 5e-3, weight_decay 5e-4).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- measurement

def machine_busy_seconds():
    """Non-idle CPU seconds of the whole machine so far (first line of /proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_usage():
    """(CPU seconds, minor page faults) of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_timed(step, min_time, budget=0.0, warmup=3, min_iters=20, max_iters=2000):
    """Calls step() `warmup` times untimed, then times calls as minidl's run_timed does."""
    for _ in range(warmup):
        t0 = time.perf_counter()
        step()
        if budget > 0 and (time.perf_counter() - t0) * (warmup + min_iters) > budget:
            break  # a slow point: keep the whole measurement within the budget
    times_ms = []
    cpu0, faults0 = own_usage()
    busy0, wall0 = machine_busy_seconds(), time.perf_counter()
    while True:
        t0 = time.perf_counter()
        step()
        times_ms.append((time.perf_counter() - t0) * 1e3)
        n, elapsed = len(times_ms), time.perf_counter() - wall0
        if budget > 0 and n >= 3 and elapsed * (n + 1) / n > budget:
            break  # one more call would exceed the budget
        if n >= max_iters or (n >= min_iters and elapsed >= min_time):
            break
    wall = time.perf_counter() - wall0
    cpu1, faults1 = own_usage()
    own, busy = cpu1 - cpu0, machine_busy_seconds() - busy0
    return {"iters": n, "ms_median": statistics.median(times_ms),
            "ms_min": min(times_ms), "ms_max": max(times_ms),
            "cpu_per_wall": own / wall,  # about 2 when both threads are busy all the time
            "minflt_per_iter": (faults1 - faults0) / n,
            "foreign_cpus": max(0.0, (busy - own) / wall)}  # > 0.05: measured under load


def time_training(opt, compute_loss, min_time):
    """Times training steps: zero_grad(set_to_none), forward and loss (compute_loss()),
    backward, opt.step(). Adds loss_first/loss_last (timed steps) and the loss check."""
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        loss = compute_loss()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    res = run_timed(step, min_time)
    timed = losses[3:]  # after the 3 warm-ups
    res["loss_first"], res["loss_last"] = timed[0], timed[-1]
    if not all(math.isfinite(x) for x in losses):
        res["error"] = "non-finite loss"
    elif not timed[-1] < timed[0]:
        res["error"] = "loss did not decrease: %g -> %g" % (timed[0], timed[-1])
    return res


# ---------------------------------------------------------------- workloads

def w_gemm(args):
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    res = run_timed(lambda: a @ b, args.min_time)  # a fresh output each call
    flop = 2.0 * n ** 3
    res["gflops_median"] = flop / (res["ms_median"] * 1e-3) / 1e9
    res["gflops_best"] = flop / (res["ms_min"] * 1e-3) / 1e9
    return res


def w_op_overhead(args):
    n_ops = 10000
    fwd_s, bwd_s = [], []

    def step():
        t0 = time.perf_counter()
        x = torch.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n_ops // 2):
            y = y * 1.0001
            y = y + 0.5
        t1 = time.perf_counter()
        y.backward()
        fwd_s.append(t1 - t0)
        bwd_s.append(time.perf_counter() - t1)
        return x

    res = run_timed(step, args.min_time)
    res["us_per_op_median"] = res["ms_median"] * 1e3 / n_ops
    res["fwd_us_per_op_median"] = statistics.median(fwd_s[3:]) * 1e6 / n_ops  # no warm-ups
    res["bwd_us_per_op_median"] = statistics.median(bwd_s[3:]) * 1e6 / n_ops

    def step_nograd():  # the same chain without autograd: the bare cost of an eager op
        with torch.no_grad():
            y = torch.tensor(1.0)
            for _ in range(n_ops // 2):
                y = y * 1.0001
                y = y + 0.5

    nograd = run_timed(step_nograd, min(1.0, args.min_time))
    res["nograd_us_per_op_median"] = nograd["ms_median"] * 1e3 / n_ops
    grad = step().grad.item()  # dy/dx = 1.0001^5000
    if not abs(grad - 1.0001 ** 5000) <= 1e-3 * 1.0001 ** 5000:
        res["error"] = "x.grad = %g, expected %g" % (grad, 1.0001 ** 5000)
    return res


def w_mlp_step(args):
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 784), torch.randint(0, 10, (64,))
    return time_training(opt, lambda: F.cross_entropy(model(x), y), args.min_time)


def w_lstm_step(args):
    lstm = nn.LSTM(128, 256)  # time-major input [T, B, I]
    x = torch.randn(50, 32, 128)

    def step():
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(x)
        out.sum().backward()

    return run_timed(step, args.min_time)


def w_cnn_step(args):
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    return time_training(opt, lambda: F.cross_entropy(model(x), y), args.min_time)


def w_mha_step(args):
    mha = nn.MultiheadAttention(256, 8, batch_first=True)
    x = torch.randn(8, 512, 256)  # no gradient: the gradients go to the parameters

    def step():
        mha.zero_grad(set_to_none=True)
        out, _ = mha(x, x, x, need_weights=False)
        out.sum().backward()

    return run_timed(step, args.min_time)


def w_long_attention(args):
    T, d = args.seq, 64
    q, k, v = (torch.randn(1, T, d, requires_grad=True) for _ in range(3))

    def step():
        q.grad = k.grad = v.grad = None
        scores = (q / math.sqrt(d)) @ k.transpose(1, 2)  # [1, T, T]
        out = torch.softmax(scores, dim=-1) @ v
        out.sum().backward()

    res = run_timed(step, args.min_time, budget=60.0)  # seconds
    res["matmul_gflops_median"] = 12.0 * T * T * d / (res["ms_median"] * 1e-3) / 1e9
    return res


class ViT(nn.Module):
    """W7: a small vision transformer for 28x28x1 images (definition in the docstring)."""

    def __init__(self, d=64, layers=4):
        super().__init__()
        self.patch = nn.Conv2d(1, d, kernel_size=7, stride=7)  # 28x28 -> 4x4 patches
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, 17, d) * 0.02)
        # Separate layers (nn.TransformerEncoder would deep-copy one: identical initial weights).
        self.blocks = nn.Sequential(*[
            nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=128, dropout=0.1,
                                       batch_first=True) for _ in range(layers)])
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)  # [B, 16, d]
        cls = self.cls.expand(x.shape[0], -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + self.pos  # [B, 17, d]
        return self.head(self.blocks(tokens)[:, 0])


def w_vit_step(args):
    model = ViT().train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    return time_training(opt, lambda: F.cross_entropy(model(x), y), args.min_time)


class Seq2Seq(nn.Module):
    """W8: LSTM encoder, LSTMCell decoder with Bahdanau attention, teacher forcing."""

    def __init__(self, vocab=1000, emb=64, hidden=128):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(vocab, emb), nn.Embedding(vocab, emb)
        self.enc = nn.LSTM(emb, hidden, batch_first=True)
        self.cell = nn.LSTMCell(emb + hidden, hidden)
        # Additive attention as minidl's nn::BahdanauAttention: W1 on the query (decoder
        # state), W2 on the keys (encoder outputs, once per batch), V to one score; all biased.
        self.W1, self.W2 = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.V = nn.Linear(hidden, 1)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src, tgt_in):
        enc_out, (h, c) = self.enc(self.src_emb(src))  # [B, TS, H]
        h, c = h[0], c[0]
        keys = self.W2(enc_out)
        emb = self.tgt_emb(tgt_in)  # [B, TT, E]
        hs = []
        for t in range(tgt_in.shape[1]):
            score = self.V(torch.tanh(self.W1(h).unsqueeze(1) + keys)).squeeze(2)  # [B, TS]
            weights = torch.softmax(score, dim=1)
            context = torch.bmm(weights.unsqueeze(1), enc_out).squeeze(1)  # [B, H]
            h, c = self.cell(torch.cat([emb[:, t], context], dim=1), (h, c))
            hs.append(h)
        return self.out(torch.stack(hs, dim=1))  # [B, TT, V], the output layer once


def w_nmt_step(args):
    V, B, TS, TT = 1000, 64, 20, 20
    model = Seq2Seq(V)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    src, tgt_in, tgt_out = (torch.randint(0, V, (B, n)) for n in (TS, TT, TT))

    def compute_loss():
        logits = model(src, tgt_in)  # [B, TT, V]
        return F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1))

    return time_training(opt, compute_loss, args.min_time)


class GATLayer(nn.Module):
    """`heads` graph-attention heads over a dense N x N adjacency mask, computed together."""

    def __init__(self, fin, fout, heads, concat):
        super().__init__()
        self.heads, self.fout, self.concat = heads, fout, concat
        self.W = nn.Parameter(torch.empty(fin, heads * fout))  # every head's W side by side
        self.a_src = nn.Parameter(torch.empty(heads, fout, 1))
        self.a_dst = nn.Parameter(torch.empty(heads, fout, 1))
        for h in range(heads):  # per head as in pyGAT: W [fin, fout], a [2 fout, 1]
            nn.init.xavier_uniform_(self.W.data[:, h * fout:(h + 1) * fout], gain=1.414)
            a = torch.empty(2 * fout, 1)
            nn.init.xavier_uniform_(a, gain=1.414)
            self.a_src.data[h], self.a_dst.data[h] = a[:fout], a[fout:]

    def forward(self, x, no_edge):
        n = x.shape[0]
        wh = (x @ self.W).view(n, self.heads, self.fout).transpose(0, 1)  # [heads, N, fout]
        e = torch.matmul(wh, self.a_src) + torch.matmul(wh, self.a_dst).transpose(1, 2)
        e = F.leaky_relu(e, 0.2).masked_fill(no_edge, -9e15)  # [heads, N, N]: row i, column j
        att = F.dropout(torch.softmax(e, dim=2), 0.6, self.training)
        out = torch.bmm(att, wh)  # [heads, N, fout]
        if self.concat:
            return F.elu(out.transpose(0, 1).reshape(n, -1))  # [N, heads * fout]
        return out.mean(0)


class GAT(nn.Module):
    def __init__(self, fin, hidden=8, heads=8, classes=7):
        super().__init__()
        self.layer1 = GATLayer(fin, hidden, heads, concat=True)
        self.layer2 = GATLayer(hidden * heads, classes, 1, concat=False)

    def forward(self, x, no_edge):
        x = self.layer1(F.dropout(x, 0.6, self.training), no_edge)
        x = self.layer2(F.dropout(x, 0.6, self.training), no_edge)
        return F.log_softmax(x, dim=1)


def random_graph(n, pairs, gen):
    """The boolean N x N "no edge" mask: `pairs` distinct undirected pairs + self loops."""
    chosen = set()
    while len(chosen) < pairs:
        i, j = torch.randint(0, n, (2,), generator=gen).tolist()
        if i != j:
            chosen.add((min(i, j), max(i, j)))
    src = torch.tensor([p[0] for p in sorted(chosen)])
    dst = torch.tensor([p[1] for p in sorted(chosen)])
    adj = torch.eye(n, dtype=torch.bool)
    adj[src, dst] = True
    adj[dst, src] = True
    return ~adj


def w_gat_step(args):
    N, FIN, CLASSES, TRAIN = 2708, 1433, 7, 140
    gen = torch.Generator().manual_seed(0)
    feats = (torch.rand(N, FIN, generator=gen) < 0.0127).float()
    feats = feats / feats.sum(1, keepdim=True).clamp(min=1)
    no_edge = random_graph(N, 5278, gen)
    labels = torch.randint(0, CLASSES, (N,), generator=gen)
    model = GAT(FIN, classes=CLASSES).train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=5e-4)

    def compute_loss():
        return F.nll_loss(model(feats, no_edge)[:TRAIN], labels[:TRAIN])

    res = time_training(opt, compute_loss, args.min_time)
    res["edges"] = int((~no_edge).sum()) - N  # directed, without the self loops: 10556
    return res


WORKLOADS = {
    "gemm": w_gemm, "op_overhead": w_op_overhead, "mlp_step": w_mlp_step,
    "lstm_step": w_lstm_step, "cnn_step": w_cnn_step, "mha_step": w_mha_step,
    "long_attention": w_long_attention, "vit_step": w_vit_step, "nmt_step": w_nmt_step,
    "gat_step": w_gat_step,
}


# ---------------------------------------------------------------- driver

def human_line(res):
    name = res["workload"] + ("[%d]" % res["seq"] if "seq" in res else "")
    if "ms_median" not in res:
        return "%s: ERROR %s" % (name, res.get("error"))
    line = "%s: median %.3f ms (min %.3f, max %.3f, %d iters), peak RSS %.1f MiB, " \
           "cpu/wall %.2f, foreign CPUs %.2f" % (
               name, res["ms_median"], res["ms_min"], res["ms_max"], res["iters"],
               res["peak_rss_mib"], res["cpu_per_wall"], res["foreign_cpus"])
    for key in ("gflops_median", "us_per_op_median", "matmul_gflops_median", "loss_first",
                "loss_last"):
        if key in res:
            line += ", %s %.4g" % (key, res[key])
    return line + ("  ERROR " + res["error"] if "error" in res else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workload", nargs="?", help="workload name (see --list)")
    parser.add_argument("--list", action="store_true", help="print the workload names")
    parser.add_argument("--min-time", type=float, default=2.0,
                        help="minimum seconds of timed iterations (default 2.0)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (default 2)")
    parser.add_argument("--seq", type=int, default=4096,
                        help="long_attention: sequence length (2048, 4096, 8192, 16384)")
    parser.add_argument("--json", metavar="FILE", help="also append the RESULT json to FILE")
    args = parser.parse_args()
    if args.list:
        print("\n".join(WORKLOADS))
        return 0
    if args.workload not in WORKLOADS:
        what = "unknown workload %r" % args.workload if args.workload else "no workload given"
        print("torch_bench.py: %s (known: %s)" % (what, ", ".join(WORKLOADS)), file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    try:
        res = WORKLOADS[args.workload](args)
    except Exception as e:  # e.g. out of memory: report it, as minidl's side does
        first_line = (str(e).splitlines() or [""])[0]
        res = {"error": "%s: %s" % (type(e).__name__, first_line[:300])}
    res["workload"] = args.workload
    if args.workload == "long_attention":
        res["seq"] = args.seq
    res["peak_rss_mib"] = peak_rss_mib()
    res["threads"] = torch.get_num_threads()
    print(human_line(res))
    print("RESULT " + json.dumps(res), flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
