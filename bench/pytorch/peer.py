"""The PyTorch peer of Distill's `bench train`: the same ~45M Llama trained in eager PyTorch (1.13, Debian's
python3-torch), for plain SFT and for NeMo-Aligner-style top-K KD + SFT, so Distill's step time has a
reference a user could run instead.

What it does, matching `bench train` (bench/Distill.Bench/TrainThroughput.cs) piece by piece:
- the model: Hugging Face's Llama layout (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP, untied
  head), parameter names as in a Hugging Face checkpoint so Distill's safetensors load as they are;
- the micro-batch: 4 sequences of 512 random tokens, the second half of each supervised, the same micro-batch every
  step; like Distill's trainer it projects only the rows whose next token is supervised onto the vocabulary;
- the objectives: `sft` = CE at the label; `kd` = 1.0 * fwd_kl + 0.4 * CE, where fwd_kl is NeMo-Aligner's top-K
  forward KL (both sides renormalised over the teacher's K = 100 ids: p = softmax_K(t), q = softmax_K(s[ids]),
  KL = sum_k p_k (log p_k - log q_k)), reduced as sum over supervised tokens / their count;
- the teacher rows: K distinct random ids per row, descending max-subtracted logits (as SyntheticTrainingSource);
- the step: zero_grad, forward, loss, backward, clip_grad_norm_(1.0), AdamW (weight decay 0.01 on matrices, 0 on
  norms, betas 0.9/0.999, eps 1e-8). bf16 is CPU autocast over fp32 weights, PyTorch's way of keeping fp32 masters.

Modes:
  peer.py bench [--dtype fp32|bf16] [--rounds N]   timed steps, one JSON object of tokens/s per objective
  peer.py serve [--dtype fp32|bf16]                one step per stdin line (`sft` or `kd`), one JSON line back each
  peer.py check DIR                                 losses before and after one step on DIR's model and batch
                                                    (config.json, model.safetensors, batch.json), as JSON
PyTorch 1.13 has no scaled_dot_product_attention: attention is the eager softmax(QK^T/sqrt(d) + causal mask) V
that Hugging Face's Llama used on that version.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    sys.stderr.write(f"peer.py: {sys.executable} has no torch; install Debian's python3-torch (bench/pytorch/peer.sh --install)\n")
    sys.exit(3)

# The ~45M bench model of bench/Distill.Bench/ForwardThroughput.cs (BenchConfig). `bench peer` passes that one
# with --config, so the side-by-side figures cannot drift from it; this copy is for running the script alone.
BENCH_CONFIG = {
    "vocab_size": 32000, "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 4,
    "num_attention_heads": 8, "num_key_value_heads": 4, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "max_position_embeddings": 2048, "tie_word_embeddings": False,
}
BATCH, SEQ_LEN, TOP_K = 4, 512, 100
OBJECTIVES = {"sft": (0.0, 1.0), "kd": (1.0, 0.4)}  # (kd weight, sft weight)
DEFAULT_THREADS = None  # PyTorch's own choice, before --threads (it counts physical cores, so it can be fewer than nproc)


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x):
        wide = x.float()
        normed = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.to(x.dtype)


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.q_proj = nn.Linear(c["hidden_size"], self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c["hidden_size"], bias=False)

    def forward(self, x, cos, sin, causal):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(self.head_dim)
        weights = F.softmax(scores.masked_fill(causal, float("-inf")), dim=-1, dtype=torch.float32).to(q.dtype)
        return self.o_proj((weights @ v).transpose(1, 2).reshape(b, t, -1))


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = Mlp(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, causal):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, causal)
        return h + self.mlp(self.post_attention_layernorm(h))


class Body(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        exponents = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim
        self.register_buffer("inv_freq", 1.0 / c.get("rope_theta", 10000.0) ** exponents, persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        freqs = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        angles = torch.cat((freqs, freqs), dim=-1)
        x = self.embed_tokens(ids)
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        for layer in self.layers:
            x = layer(x, cos, sin, causal)
        return self.norm(x)


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        if any(c.get(key) for key in ("tie_word_embeddings", "rope_scaling", "attention_bias", "mlp_bias")):
            raise ValueError("peer.py: builds the bench model's shape only (untied head, no biases, plain rotary embeddings)")
        self.model = Body(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)


def loss_terms(model, batch, kd_weight, sft_weight):
    """(total, kd, sft) as 0-dim tensors: per supervised row kd_weight * fwd_kl + sft_weight * CE, summed / rows."""
    hidden = model.model(batch["ids"])
    rows = hidden.reshape(-1, hidden.shape[-1]).index_select(0, batch["rows"])
    logits = model.lm_head(rows).float()                                      # [R, V]
    sft = F.cross_entropy(logits, batch["labels"], reduction="none")
    kd = torch.zeros_like(sft)
    if kd_weight > 0:                                                          # SFT runs without a teacher, as in Distill
        log_q = F.log_softmax(logits.gather(1, batch["teacher_ids"]), dim=-1)   # student renormalised over the K
        log_p = F.log_softmax(batch["teacher_logits"], dim=-1)                  # teacher renormalised over the K
        kd = (log_p.exp() * (log_p - log_q)).sum(-1)
    if sft_weight == 0:
        sft = sft.detach()
    count = max(rows.shape[0], 1)
    return ((kd_weight * kd + sft_weight * sft).sum() / count, kd.sum() / count, sft.sum() / count)


def optimizer_for(model, lr):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.01},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)


def step(model, optimizer, batch, objective, dtype):
    kd_weight, sft_weight = OBJECTIVES[objective]
    optimizer.zero_grad(set_to_none=False)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
        total, kd, sft = loss_terms(model, batch, kd_weight, sft_weight)
    total.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return total.item()


def make_batch(ids, loss_mask, teacher_ids=None, teacher_logits=None):
    """The rows Distill's MicroBatch projects: position j - 1 for every supervised position j >= 1, label ids[j]."""
    b, t = ids.shape
    supervised = loss_mask.clone()
    supervised[:, 0] = 0
    where = supervised.nonzero()                                               # [R, 2] in row-major order
    batch = {"ids": ids, "rows": where[:, 0] * t + where[:, 1] - 1, "labels": ids[where[:, 0], where[:, 1]]}
    if teacher_ids is not None:
        batch["teacher_ids"], batch["teacher_logits"] = teacher_ids, teacher_logits.float()
    return batch


def synthetic_batch(vocab, generator):
    ids = torch.randint(0, vocab, (BATCH, SEQ_LEN), generator=generator)
    mask = torch.zeros(BATCH, SEQ_LEN, dtype=torch.long)
    mask[:, SEQ_LEN // 2:] = 1
    rows = BATCH * (SEQ_LEN - SEQ_LEN // 2)
    teacher_ids = torch.rand(rows, vocab, generator=generator).topk(TOP_K, dim=1).indices
    ordered = (torch.randn(rows, TOP_K, generator=generator) * 3).sort(dim=1, descending=True).values
    return make_batch(ids, mask, teacher_ids, ordered - ordered[:, :1])


def build(config, seed):
    torch.manual_seed(seed)
    model = Llama(config)
    model.train()
    return model


class Trainer:
    """One model, optimizer and micro-batch; `run` times one step of an objective."""

    def __init__(self, config, dtype):
        self.dtype = dtype
        self.model = build(config, 1)
        self.optimizer = optimizer_for(self.model, 1e-6)
        self.batch = synthetic_batch(config["vocab_size"], torch.Generator().manual_seed(1))
        self.tokens = BATCH * SEQ_LEN

    def run(self, objective):
        cpu, wall = time.process_time(), time.perf_counter()
        loss = step(self.model, self.optimizer, self.batch, objective, self.dtype)
        return {"objective": objective, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "loss": loss}


def describe(dtype):
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "default_threads": DEFAULT_THREADS, "dtype": dtype,
            "micro_batch": BATCH, "seq_len": SEQ_LEN, "top_k": TOP_K,
            "mkldnn": torch.backends.mkldnn.is_available(), "blas": loaded_blas()}


def loaded_blas():
    """The BLAS library this process mapped (Debian lets any libblas.so.3 serve PyTorch; the reference one is slow)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
        return sorted(os.path.realpath(p) for p in paths)
    except OSError:
        return None


def bench(config, dtype, rounds):
    trainer = Trainer(config, dtype)
    names = list(OBJECTIVES)
    for name in names:
        trainer.run(name)                                                      # warm-up: AdamW state, allocator
    times = {name: [] for name in names}
    for r in range(rounds):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            times[name].append(trainer.run(name)["wall_s"])
    report = describe(dtype)
    report["rounds"] = rounds
    for name in names:
        median = statistics.median(times[name])
        report[name] = {"tokens_per_s_at_median": trainer.tokens / median, "step_wall_s": times[name]}
    report["kd_over_sft_wall_median"] = statistics.median(k / s for k, s in zip(times["kd"], times["sft"]))
    return report


def serve(config, dtype):
    trainer = Trainer(config, dtype)
    print(json.dumps({"ready": True, **describe(dtype)}), flush=True)
    for line in sys.stdin:
        objective = line.strip()
        if objective == "quit":
            break
        if objective not in OBJECTIVES:
            print(json.dumps({"error": f"unknown objective '{objective}' (sft, kd, quit)"}), flush=True)
            continue
        print(json.dumps(trainer.run(objective)), flush=True)


SAFETENSORS_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    """The format is an 8-byte little-endian header length, a JSON header of name -> dtype, shape, byte range, then data."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = bytearray(f.read())
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        flat = torch.frombuffer(data[start:end], dtype=SAFETENSORS_DTYPES[entry["dtype"]]) if end > start else torch.empty(0)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors


def check(folder):
    """Per objective of batch.json: losses on DIR's weights, one step at batch.json's lr, the total loss again."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "batch.json")) as f:
        spec = json.load(f)
    weights = read_safetensors(os.path.join(folder, "model.safetensors"))
    batch = make_batch(torch.tensor(spec["input_ids"]), torch.tensor(spec["loss_mask"]),
                       torch.tensor(spec["teacher_ids"]), torch.tensor(spec["teacher_logits"]))
    report = {}
    for objective in spec["objectives"]:
        model = Llama(config)
        model.load_state_dict(weights, strict=True)
        model.train()
        optimizer = optimizer_for(model, spec["lr"])
        with torch.no_grad():
            before = [t.item() for t in loss_terms(model, batch, *OBJECTIVES[objective])]
        step(model, optimizer, batch, objective, "fp32")
        with torch.no_grad():
            after = loss_terms(model, batch, *OBJECTIVES[objective])[0].item()
        report[objective] = {"total": before[0], "kd": before[1], "sft": before[2], "total_after_step": after}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve", "check"])
    parser.add_argument("folder", nargs="?", help="check: the folder with config.json, model.safetensors, batch.json")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--rounds", type=int, default=5, help="bench: rounds of one step per objective")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: PyTorch's, one per core)")
    parser.add_argument("--config", help="a Hugging Face config.json of the model to train (default: the ~45M bench model)")
    args = parser.parse_args()
    global DEFAULT_THREADS
    DEFAULT_THREADS = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = BENCH_CONFIG
    if args.config:
        with open(args.config) as f:
            config = json.load(f)
    if args.mode == "check":
        if not args.folder:
            parser.error("check needs a folder")
        print(json.dumps(check(args.folder)))
    elif args.mode == "serve":
        serve(config, args.dtype)
    else:
        print(json.dumps(bench(config, args.dtype, args.rounds), indent=2))


if __name__ == "__main__":
    main()
