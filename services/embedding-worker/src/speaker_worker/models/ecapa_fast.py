"""ECAPA-TDNN's forward pass over a padded batch that gives every clip the embedding speechbrain's own
`encode_batch` gives it alone, at the cost of the padding only (no fixed tail, no per-clip loop).

Why a forward of our own rather than `encode_batch` on a padded batch: speechbrain's convolutions reflect-pad
each ROW, so a clip that is followed by padding sees different values past its end than the same clip alone,
and its `InputNormalization` rounds relative lengths back to frame counts. Here each row's "same" padding
reflects at the row's own last frame (one gather per dilated convolution), every mean over time is masked by
exact frame counts, and the feature mean is one vectorised reduction. The weights are speechbrain's modules,
used as they are; only the wiring between them is ours.

Two algebraic rewrites that save work without changing the result (beyond float rounding): the attentive
pooling's global context is added after its first 1x1 convolution (W [x; mean; std] = Wx x + (Wm mean +
Ws std), two thirds fewer FLOPs in that layer and no 9216-channel concatenation), and ReLU + eval-mode batch
norm run in place as one scale-and-shift.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

HOP_SAMPLES = 160


def frame_counts(samples: torch.Tensor) -> torch.Tensor:
    """Fbank frames of clips of `samples` samples (centred STFT, 10 ms hop): what a clip alone gets."""
    return torch.div(samples, HOP_SAMPLES, rounding_mode="floor") + 1


class _Affine:
    """Eval-mode BatchNorm1d folded to a per-channel scale and shift."""

    def __init__(self, bn) -> None:
        norm = getattr(bn, "norm", bn)  # speechbrain wraps torch's BatchNorm1d in `.norm`
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        self.scale = scale.detach()[None, :, None].contiguous()
        self.shift = (norm.bias - norm.running_mean * scale).detach()[None, :, None].contiguous()

    def to(self, device: torch.device) -> _Affine:
        self.scale, self.shift = self.scale.to(device), self.shift.to(device)
        return self


def _conv_parts(module) -> tuple[torch.Tensor, torch.Tensor | None, int, int]:
    conv = getattr(module, "conv", module)
    return conv.weight, conv.bias, int(conv.kernel_size[0]), int(conv.dilation[0])


class EcapaForward(torch.nn.Module):
    """forward(wavs (B, S) zero-padded float32, samples (B,) int64) -> (B, 192) embeddings, unnormalised."""

    def __init__(self, classifier) -> None:
        super().__init__()
        mods = classifier.mods
        self.fbank = mods.compute_features
        self.net = mods.embedding_model
        self._affine: dict[int, _Affine] = {}
        for module in self.net.modules():
            if type(module).__name__ == "TDNNBlock":
                self._affine[id(module)] = _Affine(module.norm)
        self._asp_bn = _Affine(self.net.asp_bn)
        channels = self.net.mfa.conv.conv.out_channels
        w = self.net.asp.tdnn.conv.conv.weight.detach()
        self._asp_wx = w[:, :channels].contiguous()
        self._asp_wm = w[:, channels : 2 * channels, 0].contiguous()
        self._asp_ws = w[:, 2 * channels :, 0].contiguous()

    def _apply(self, fn, recurse=True):
        # Keep the folded constants on the module's device and dtype when it moves.
        super()._apply(fn, recurse)
        for affine in [*self._affine.values(), self._asp_bn]:
            affine.scale, affine.shift = fn(affine.scale), fn(affine.shift)
        self._asp_wx, self._asp_wm, self._asp_ws = fn(self._asp_wx), fn(self._asp_wm), fn(self._asp_ws)
        return self

    # --- pieces --------------------------------------------------------------------------------------

    def features(self, wavs: torch.Tensor, frames: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Fbank of the zero-padded rows (exact for each clip's own frames: the STFT pads with zeros too)
        minus each clip's mean over its own frames, as (B, 80, T)."""
        feats = self.fbank(wavs)  # (B, T, 80)
        if mask is None:
            mean = feats.mean(dim=1, keepdim=True)
        else:
            mean = torch.einsum("btf,bt->bf", feats, mask.to(feats.dtype))[:, None, :]
            mean = mean / frames.to(feats.dtype)[:, None, None]
        return (feats - mean).transpose(1, 2)

    @staticmethod
    def _reflect_index(frames: torch.Tensor, length: int, pad: int) -> torch.Tensor:
        """(B, length + 2 pad) source frame per padded position: reflection at 0 and at each row's own end;
        positions past a row's end + pad are don't-cares (clamped to stay in range)."""
        pos = torch.arange(-pad, length + pad, device=frames.device)[None, :]
        last = (frames - 1)[:, None]
        idx = pos.abs()
        idx = torch.where(idx > last, 2 * last - idx, idx)
        return idx.clamp(min=0).minimum(last)

    def _conv(self, x: torch.Tensor, module, ctx: dict) -> torch.Tensor:
        weight, bias, kernel, dilation = _conv_parts(module)
        if kernel == 1:
            return F.conv1d(x, weight, bias)
        pad = dilation * (kernel - 1) // 2
        if ctx["frames"] is None:
            padded = F.pad(x, (pad, pad), mode="reflect")
        else:
            idx = ctx["index"].get(pad)
            if idx is None:
                idx = ctx["index"][pad] = self._reflect_index(ctx["frames"], x.shape[-1], pad)
            padded = torch.gather(x, 2, idx[:, None, :].expand(x.shape[0], x.shape[1], idx.shape[1]))
        return F.conv1d(padded, weight, bias, dilation=dilation)

    def _tdnn(self, x: torch.Tensor, block, ctx: dict) -> torch.Tensor:
        y = torch.relu_(self._conv(x, block.conv, ctx))
        affine = self._affine[id(block)]
        return y.mul_(affine.scale).add_(affine.shift)

    def _time_mean(self, x: torch.Tensor, ctx: dict) -> torch.Tensor:
        if ctx["frames"] is None:
            return x.mean(dim=2)
        return torch.einsum("bct,bt->bc", x, ctx["weights"])

    def _se_res2net(self, x: torch.Tensor, block, ctx: dict) -> torch.Tensor:
        residual = x if block.shortcut is None else self._conv(x, block.shortcut, ctx)
        y = self._tdnn(x, block.tdnn1, ctx)
        res2 = block.res2net_block
        chunks = torch.chunk(y, res2.scale, dim=1)
        outs = [chunks[0]]
        prev = None
        for i in range(1, res2.scale):
            inp = chunks[i] if prev is None else chunks[i] + prev
            prev = self._tdnn(inp, res2.blocks[i - 1], ctx)
            outs.append(prev)
        y = self._tdnn(torch.cat(outs, dim=1), block.tdnn2, ctx)
        se = block.se_block
        s = self._time_mean(y, ctx)
        w1, b1, _, _ = _conv_parts(se.conv1)
        w2, b2, _, _ = _conv_parts(se.conv2)
        s = torch.sigmoid(F.linear(torch.relu(F.linear(s, w1[..., 0], b1)), w2[..., 0], b2))
        return y.mul_(s[..., None]).add_(residual)

    def _pool(self, x: torch.Tensor, ctx: dict) -> torch.Tensor:
        asp = self.net.asp
        eps = asp.eps
        length = x.shape[-1]
        weights = ctx["weights"]  # (B, T) 1/frames on a clip's frames, 0 past them; None when all full
        if weights is None:
            weights = torch.full((x.shape[0], length), 1.0 / length, dtype=x.dtype, device=x.device)
        mean = torch.einsum("bct,bt->bc", x, weights)
        std = torch.sqrt(torch.einsum("bct,bt->bc", (x - mean[..., None]).pow_(2), weights).clamp(eps))
        tdnn = asp.tdnn
        context = F.linear(mean, self._asp_wm) + F.linear(std, self._asp_ws) + tdnn.conv.conv.bias
        h = torch.relu_(F.conv1d(x, self._asp_wx).add_(context[..., None]))
        affine = self._affine[id(tdnn)]
        h = torch.tanh_(h.mul_(affine.scale).add_(affine.shift))
        wc, bc, _, _ = _conv_parts(asp.conv)
        attn = F.conv1d(h, wc, bc)
        if ctx["frames"] is not None:
            attn = attn.masked_fill_(~ctx["mask"][:, None, :], float("-inf"))
        attn = torch.softmax(attn, dim=2)
        mean = torch.einsum("bct,bct->bc", attn, x)
        std = torch.sqrt(torch.einsum("bct,bct->bc", attn, (x - mean[..., None]).pow_(2)).clamp(eps))
        pooled = torch.cat((mean, std), dim=1)[..., None]
        pooled = pooled * self._asp_bn.scale + self._asp_bn.shift
        wf, bf, _, _ = _conv_parts(self.net.fc)
        return F.conv1d(pooled, wf, bf)[..., 0]

    # --- the whole pass -------------------------------------------------------------------------------

    def forward(
        self, wavs: torch.Tensor, samples: torch.Tensor, *, uniform: bool | None = None
    ) -> torch.Tensor:
        """`uniform` (every clip fills its row) picks the cheaper unmasked path; None works it out. CUDA
        graph capture passes False: a graph must not branch on the data."""
        frames = frame_counts(samples)
        if uniform is None:
            uniform = bool((samples == wavs.shape[1]).all())
        ctx: dict = {"frames": None, "mask": None, "weights": None, "index": {}}
        mask = None
        if not uniform:
            total = wavs.shape[1] // HOP_SAMPLES + 1
            mask = torch.arange(total, device=wavs.device)[None, :] < frames[:, None]
            ctx.update(frames=frames, mask=mask, weights=mask.to(wavs.dtype) / frames.to(wavs.dtype)[:, None])
        x = self.features(wavs, frames, mask)
        blocks = self.net.blocks
        x = self._tdnn(x, blocks[0], ctx)
        outs = []
        for block in blocks[1:]:
            x = self._se_res2net(x, block, ctx)
            outs.append(x)
        x = self._tdnn(torch.cat(outs, dim=1), self.net.mfa, ctx)
        return self._pool(x, ctx)
