"""ECAPA-TDNN's forward pass over a padded batch that gives every clip the embedding speechbrain's own
`encode_batch` gives it alone, at the cost of the padding only (no fixed tail, no per-clip loop).

Why a forward of our own rather than `encode_batch` on a padded batch: speechbrain's convolutions reflect-pad
each ROW, so a clip that is followed by padding sees different values past its end than the same clip alone,
and its `InputNormalization` rounds relative lengths back to frame counts. Here each row's "same" padding
reflects at the row's own last frame, every mean over time is masked by exact frame counts, and the feature
mean is one vectorised reduction. The weights are speechbrain's, used as they are; only the wiring between
them is ours.

Activations are time-major, (B, T, C) with channels contiguous, and every convolution is ONE matrix product:
a kernel-1 convolution is `linear` over the rows; a dilated one gathers its taps' rows into (B, T, k C) with
one `index_select` (which is also where each row's own reflection happens) and multiplies by the kernel laid
out as (C_out, k C_in). On the CPU that runs as a plain GEMM (oneDNN/MKL, AMX in bf16) with no layout
reorders, two to three times faster than `conv1d` on (B, C, T) here, and the per-channel scale-and-shift of
the batch norms runs along contiguous channels.

Two algebraic rewrites that save work without changing the result (beyond float rounding): the attentive
pooling's global context is added after its first 1x1 convolution (W [x; mean; std] = Wx x + (Wm mean +
Ws std), two thirds fewer FLOPs in that layer and no 9216-channel concatenation), and ReLU + eval-mode batch
norm run in place as one scale-and-shift.

`dtype` (bf16 where the CPU has AMX / AVX-512 BF16) is the convolutions' and activations' precision, the
weights cast once; the fbank and feature mean, every mean over time (SE, pooling statistics; accumulated in
fp32), the attention softmax and the final linear layer stay fp32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

HOP_SAMPLES = 160


def frame_counts(samples: torch.Tensor) -> torch.Tensor:
    """Fbank frames of clips of `samples` samples (centred STFT, 10 ms hop): what a clip alone gets."""
    return torch.div(samples, HOP_SAMPLES, rounding_mode="floor") + 1


def _conv(module):
    return getattr(module, "conv", module)


def _scale_shift(bn) -> tuple[torch.Tensor, torch.Tensor]:
    norm = getattr(bn, "norm", bn)  # speechbrain wraps torch's BatchNorm1d in `.norm`
    scale = (norm.weight / torch.sqrt(norm.running_var + norm.eps)).detach()
    return scale, (norm.bias - norm.running_mean * scale).detach()


def _weighted_sum(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(B, T, C), (B, T) -> (B, C): sum over time as one batched product (einsum would transpose x)."""
    return torch.bmm(weights[:, None, :], x)[:, 0]


def reflect_index(frames: torch.Tensor, length: int, pad: int) -> torch.Tensor:
    """(B, length + 2 pad) source frame per padded position: reflection at 0 and at each row's own end (as
    torch's reflect padding of the clip alone); positions past a row's end + pad are don't-cares (clamped to
    stay in range)."""
    pos = torch.arange(-pad, length + pad, device=frames.device)[None, :]
    last = (frames - 1)[:, None]
    idx = pos.abs()
    idx = torch.where(idx > last, 2 * last - idx, idx)
    return idx.clamp(min=0).minimum(last)


class EcapaForward(torch.nn.Module):
    """forward(wavs (B, S) zero-padded float32, samples (B,) int64) -> (B, 192) fp32 embeddings,
    unnormalised."""

    def __init__(self, classifier, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        mods = classifier.mods
        self.fbank = mods.compute_features
        self.net = mods.embedding_model
        self.dtype = dtype
        self._names: dict[int, str] = {}  # id(speechbrain module) -> prefix of its prepared buffers
        for name, module in self.net.named_modules():
            kind = type(module).__name__
            if kind == "TDNNBlock" and module is not self.net.asp.tdnn:
                self._prepare_tdnn(name, module)
            elif kind == "SEBlock":
                # (B, C) linears: fp32, they are tiny.
                for part in ("conv1", "conv2"):
                    conv = _conv(getattr(module, part))
                    self._buffer(f"{name}.{part}.w", conv.weight[..., 0], torch.float32)
                    self._buffer(f"{name}.{part}.b", conv.bias, torch.float32)
                self._names[id(module)] = name
            elif kind == "SERes2NetBlock" and module.shortcut is not None:
                self._prepare_conv(f"{name}.shortcut", module.shortcut)
        asp = self.net.asp
        channels = self.net.mfa.conv.conv.out_channels
        # The pooling's TDNN, folded as in _prepare_tdnn, its kernel split by what it multiplies.
        scale, shift = _scale_shift(asp.tdnn.norm)
        w = _conv(asp.tdnn.conv).weight.detach()[..., 0] * scale[:, None]
        self._buffer("asp.wx", w[:, :channels], dtype)
        self._buffer("asp.wm", w[:, channels : 2 * channels], torch.float32)
        self._buffer("asp.ws", w[:, 2 * channels :], torch.float32)
        self._buffer("asp.b", _conv(asp.tdnn.conv).bias.detach() * scale + shift, torch.float32)
        inf = torch.full_like(shift, float("inf"))
        self._buffer("asp.lo", torch.where(scale >= 0, shift, -inf), dtype)
        self._buffer("asp.hi", torch.where(scale >= 0, inf, shift), dtype)
        self._prepare_conv("asp.conv", asp.conv)
        self._prepare_affine("asp_bn", self.net.asp_bn, torch.float32)
        fc = _conv(self.net.fc)
        self._buffer("fc.w", fc.weight[..., 0], torch.float32)
        self._buffer("fc.b", fc.bias, torch.float32)

    # --- prepared weights (buffers, so that .to(device) moves them) --------------------------------------

    def _buffer(self, name: str, value: torch.Tensor, dtype: torch.dtype) -> None:
        self.register_buffer(name.replace(".", "__"), value.detach().to(dtype).contiguous(), persistent=False)

    def _get(self, name: str) -> torch.Tensor:
        return getattr(self, name.replace(".", "__"))

    def _prepare_conv(self, name: str, module) -> None:
        """The kernel as (C_out, k C_in), tap-major, to multiply the gathered taps' rows."""
        conv = _conv(module)
        weight = conv.weight.detach()  # (C_out, C_in, k)
        kernel, dilation = int(conv.kernel_size[0]), int(conv.dilation[0])
        self._buffer(f"{name}.w", weight.permute(0, 2, 1).reshape(weight.shape[0], -1), self.dtype)
        self._buffer(f"{name}.b", conv.bias, self.dtype)
        self._names[id(module)] = name
        self._names[id(conv)] = name
        setattr(self, f"_kd_{name.replace('.', '__')}", (kernel, dilation))

    def _prepare_affine(self, name: str, bn, dtype: torch.dtype | None = None) -> None:
        """Eval-mode BatchNorm1d folded to a per-channel scale and shift."""
        scale, shift = _scale_shift(bn)
        self._buffer(f"{name}.scale", scale, dtype or self.dtype)
        self._buffer(f"{name}.shift", shift, dtype or self.dtype)
        self._names[id(bn)] = name

    def _prepare_tdnn(self, name: str, block) -> None:
        """conv -> ReLU -> eval batch norm as one product and one clamp: with the norm's per-channel scale s
        and shift t, relu(z) s + t = max(s z + t, t) where s >= 0 and min(s z + t, t) where s < 0, so the
        kernel and bias are scaled by s, t joins the bias, and the clamp's bounds are t on one side."""
        conv = _conv(block.conv)
        self._prepare_conv(name, block.conv)
        scale, shift = _scale_shift(block.norm)
        weight = conv.weight.detach() * scale[:, None, None]
        self._buffer(f"{name}.w", weight.permute(0, 2, 1).reshape(weight.shape[0], -1), self.dtype)
        self._buffer(f"{name}.b", conv.bias.detach() * scale + shift, self.dtype)
        inf = torch.full_like(shift, float("inf"))
        self._buffer(f"{name}.lo", torch.where(scale >= 0, shift, -inf), self.dtype)
        self._buffer(f"{name}.hi", torch.where(scale >= 0, inf, shift), self.dtype)
        self._names[id(block)] = name

    # --- pieces --------------------------------------------------------------------------------------

    def features(self, wavs: torch.Tensor, frames: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Fbank of the zero-padded rows (exact for each clip's own frames: the STFT pads with zeros too)
        minus each clip's mean over its own frames, as (B, T, 80) fp32."""
        feats = self.fbank(wavs)  # (B, T, 80)
        if mask is None:
            mean = feats.mean(dim=1, keepdim=True)
        else:
            mean = torch.einsum("btf,bt->bf", feats, mask.to(feats.dtype))[:, None, :]
            mean = mean / frames.to(feats.dtype)[:, None, None]
        return feats - mean

    def _taps(self, ctx: dict, kernel: int, dilation: int) -> torch.Tensor:
        """Flat row indices (B T k) of each output frame's k taps into the (B T, C) input: its own row's
        frames, reflected at the row's own ends."""
        key = (kernel, dilation)
        taps = ctx["taps"].get(key)
        if taps is None:
            frames, length = ctx["frames"], ctx["length"]
            pad = dilation * (kernel - 1) // 2
            source = reflect_index(frames, length, pad)  # (B, length + 2 pad)
            offsets = torch.arange(length, device=frames.device)[:, None] + dilation * torch.arange(
                kernel, device=frames.device
            )  # (T, k) padded positions
            rows = source[:, offsets]  # (B, T, k)
            base = torch.arange(frames.shape[0], device=frames.device)[:, None, None] * length
            taps = ctx["taps"][key] = (rows + base).reshape(-1)
        return taps

    def _conv(self, x: torch.Tensor, module, ctx: dict) -> torch.Tensor:
        """(B, T, C_in) -> (B, T, C_out): "same" convolution with each row reflected at its own ends."""
        name = self._names[id(module)]
        weight, bias = self._get(f"{name}.w"), self._get(f"{name}.b")
        kernel, dilation = self._kd(name)
        if kernel == 1:
            return F.linear(x, weight, bias)
        batch, length, channels = x.shape
        cols = x.reshape(batch * length, channels).index_select(0, self._taps(ctx, kernel, dilation))
        return F.linear(cols.view(batch, length, kernel * channels), weight, bias)

    def _kd(self, name: str) -> tuple[int, int]:
        return getattr(self, f"_kd_{name.replace('.', '__')}")

    def _tdnn(self, x: torch.Tensor, block, ctx: dict) -> torch.Tensor:
        name = self._names[id(block)]
        return self._conv(x, block.conv, ctx).clamp_(self._get(f"{name}.lo"), self._get(f"{name}.hi"))

    def _time_mean(self, x: torch.Tensor, ctx: dict) -> torch.Tensor:
        """(B, C) fp32 mean of each row over its own frames."""
        if ctx["mask"] is None:
            return x.mean(dim=1, dtype=torch.float32)
        if x.dtype == torch.float32:
            return _weighted_sum(x, ctx["weights"])
        # A 0/1 mask is exact in any dtype; the sum comes back in fp32 (the GEMM accumulates in fp32).
        total = _weighted_sum(x, ctx["mask"].to(x.dtype)).float()
        return total / ctx["frames"].to(torch.float32)[:, None]

    def _se_res2net(self, x: torch.Tensor, block, ctx: dict) -> torch.Tensor:
        residual = x if block.shortcut is None else self._conv(x, block.shortcut, ctx)
        y = self._tdnn(x, block.tdnn1, ctx)
        res2 = block.res2net_block
        chunks = torch.chunk(y, res2.scale, dim=2)
        outs = [chunks[0]]
        prev = None
        for i in range(1, res2.scale):
            inp = chunks[i] if prev is None else chunks[i] + prev
            prev = self._tdnn(inp, res2.blocks[i - 1], ctx)
            outs.append(prev)
        y = self._tdnn(torch.cat(outs, dim=2), block.tdnn2, ctx)
        se = self._names[id(block.se_block)]
        s = self._time_mean(y, ctx)
        s = F.linear(s, self._get(f"{se}.conv1.w"), self._get(f"{se}.conv1.b"))
        s = F.linear(torch.relu_(s), self._get(f"{se}.conv2.w"), self._get(f"{se}.conv2.b"))
        return torch.addcmul(residual, y, torch.sigmoid_(s).to(y.dtype)[:, None, :])

    def _pool(self, x: torch.Tensor, ctx: dict) -> torch.Tensor:
        eps = self.net.asp.eps
        batch, length, _ = x.shape
        weights = ctx["weights"]  # (B, T) 1/frames on a clip's frames, 0 past them; None when all full
        if weights is None:
            weights = torch.full((batch, length), 1.0 / length, dtype=torch.float32, device=x.device)
        xf = x.float()  # the statistics in fp32 whatever the trunk's dtype
        mean = _weighted_sum(xf, weights)
        std = torch.sqrt(_weighted_sum((xf - mean[:, None, :]).pow_(2), weights).clamp(eps))
        context = (
            F.linear(mean, self._get("asp.wm")) + F.linear(std, self._get("asp.ws")) + self._get("asp.b")
        )
        h = F.linear(x, self._get("asp.wx")).add_(context.to(x.dtype)[:, None, :])
        h = torch.tanh_(h.clamp_(self._get("asp.lo"), self._get("asp.hi")))
        attn = self._conv(h, self.net.asp.conv, ctx).float()  # (B, T, C)
        if ctx["mask"] is not None:
            attn = attn.masked_fill_(~ctx["mask"][:, :, None], float("-inf"))
        attn = torch.softmax(attn, dim=1)
        mean = (attn * xf).sum(dim=1)
        std = torch.sqrt(attn.mul_((xf - mean[:, None, :]).pow_(2)).sum(dim=1).clamp(eps))
        pooled = torch.cat((mean, std), dim=1)
        pooled = pooled * self._get("asp_bn.scale") + self._get("asp_bn.shift")
        return F.linear(pooled, self._get("fc.w"), self._get("fc.b"))

    # --- the whole pass -------------------------------------------------------------------------------

    def forward(
        self, wavs: torch.Tensor, samples: torch.Tensor, *, uniform: bool | None = None
    ) -> torch.Tensor:
        """`uniform` (every clip fills its row) skips the masks; None works it out. CUDA graph capture passes
        False: a graph must not branch on the data."""
        frames = frame_counts(samples)
        if uniform is None:
            uniform = bool((samples == wavs.shape[1]).all())
        length = wavs.shape[1] // HOP_SAMPLES + 1
        ctx: dict = {"frames": frames, "length": length, "mask": None, "weights": None, "taps": {}}
        mask = None
        if not uniform:
            mask = torch.arange(length, device=wavs.device)[None, :] < frames[:, None]
            ctx.update(mask=mask, weights=mask.to(torch.float32) / frames.to(torch.float32)[:, None])
        x = self.features(wavs, frames, mask).to(self.dtype)
        blocks = self.net.blocks
        x = self._tdnn(x, blocks[0], ctx)
        outs = []
        for block in blocks[1:]:
            x = self._se_res2net(x, block, ctx)
            outs.append(x)
        x = self._tdnn(torch.cat(outs, dim=2), self.net.mfa, ctx)
        return self._pool(x, ctx)
