"""The U-Net of @dale/models (packages/models/src/unet.ts) in PyTorch, layer for layer, for the compute bench.

NCHW instead of NHWC; otherwise the same layers, widths, group-norm groups, attention and time embedding:

    temb = silu(dense1(silu(dense0(sinusoidal(t * timeScale, ch)))))                        [B, 4 ch]
    res(h) = skip(h) + conv2(silu(gn2(conv1(silu(gn1(h))) + dense(temb)[:, :, None, None])))
    attn(h) = h + proj(softmax(q k^T / sqrt(c)) v),  q, k, v = dense(gn(h)) per pixel        (single head)
    down: [res (+ attn)] x numResBlocks per level, then a stride-2 conv3x3 ('same' as TF pads: 0 before, 1 after)
          except at the last level
    mid: res, attn, res
    up: [res(cat(h, skip)) (+ attn)] x (numResBlocks + 1) per level, then nearest x2 and conv3x3 except at level 0
    out = conv3x3(silu(gn(h)))

GroupNorm(groups_for(c), c, eps 1e-5). Convolutions and dense layers have biases; the parameter count equals the
tfjs model's (the bench and its tests check it). Weights are PyTorch's default initialisation: the bench times,
it does not compare values.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

PRESETS = {
    # Same as unetPresets in packages/models/src/unet.ts (dropout 0 for timing).
    "mnistSmall": {"image_size": 28, "channels": 1, "ch": 32, "ch_mult": [1, 2, 2], "num_res_blocks": 1, "attn_resolutions": [7]},
    "mnist": {"image_size": 28, "channels": 1, "ch": 64, "ch_mult": [1, 2, 2], "num_res_blocks": 2, "attn_resolutions": [7]},
    "tiny": {"image_size": 28, "channels": 1, "ch": 8, "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": []},
    "cifar10Small": {"image_size": 32, "channels": 3, "ch": 32, "ch_mult": [1, 2, 2, 2], "num_res_blocks": 1, "attn_resolutions": [8]},
    "cifar10": {"image_size": 32, "channels": 3, "ch": 128, "ch_mult": [1, 2, 2, 2], "num_res_blocks": 2, "attn_resolutions": [16]},
}


def groups_for(c):
    """groupsFor in unet.ts: the largest divisor of c that is at most 32 and leaves two channels per group."""
    for g in range(min(32, c // 2), 1, -1):
        if c % g == 0:
            return g
    return 1


def timestep_embedding(t, dim, scale=1000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / max(half - 1, 1))
    args = (t * scale)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def norm(c):
    return nn.GroupNorm(groups_for(c), c, eps=1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, h, emb):
        y = self.conv1(F.silu(self.norm1(h)))
        y = y + self.temb(emb)[:, :, None, None]
        y = self.conv2(F.silu(self.norm2(y)))
        return (self.skip(h) if self.skip is not None else h) + y


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q = nn.Linear(c, c)
        self.k = nn.Linear(c, c)
        self.v = nn.Linear(c, c)
        self.proj = nn.Linear(c, c)

    def forward(self, h):
        b, c, hh, ww = h.shape
        flat = self.norm(h).permute(0, 2, 3, 1).reshape(b, hh * ww, c)
        q, k, v = self.q(flat), self.k(flat), self.v(flat)
        weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(c), dim=-1)
        o = self.proj(torch.bmm(weights, v))
        return h + o.reshape(b, hh, ww, c).permute(0, 3, 1, 2)


class Downsample(nn.Module):
    """conv3x3 stride 2 with TF's 'same' padding for even sizes: none before, one row/column after."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, h):
        return self.conv(F.pad(h, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, h):
        return self.conv(F.interpolate(h, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, image_size, channels, ch, ch_mult, num_res_blocks, attn_resolutions, time_scale=1000.0):
        super().__init__()
        self.ch, self.time_scale = ch, time_scale
        temb = 4 * ch
        self.temb0 = nn.Linear(ch, temb)
        self.temb1 = nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(channels, ch, 3, padding=1)
        levels = len(ch_mult)
        skips = [ch]
        cur = ch
        self.down = nn.ModuleList()
        for i in range(levels):
            out = ch * ch_mult[i]
            with_attn = (image_size // 2**i) in attn_resolutions
            level = nn.Module()
            level.res = nn.ModuleList()
            level.attn = nn.ModuleList()
            for _ in range(num_res_blocks):
                level.res.append(ResBlock(cur, out, temb))
                cur = out
                level.attn.append(AttnBlock(cur) if with_attn else nn.Identity())
                skips.append(cur)
            level.downsample = Downsample(cur) if i != levels - 1 else None
            if level.downsample is not None:
                skips.append(cur)
            self.down.append(level)
        self.mid_res0 = ResBlock(cur, cur, temb)
        self.mid_attn = AttnBlock(cur)
        self.mid_res1 = ResBlock(cur, cur, temb)
        self.up = nn.ModuleList()
        for i in reversed(range(levels)):
            out = ch * ch_mult[i]
            with_attn = (image_size // 2**i) in attn_resolutions
            level = nn.Module()
            level.res = nn.ModuleList()
            level.attn = nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                level.res.append(ResBlock(cur + skips.pop(), out, temb))
                cur = out
                level.attn.append(AttnBlock(cur) if with_attn else nn.Identity())
            level.upsample = Upsample(cur) if i != 0 else None
            self.up.append(level)
        self.norm_out = norm(cur)
        self.conv_out = nn.Conv2d(cur, channels, 3, padding=1)

    def forward(self, x, t):
        emb = F.silu(self.temb1(F.silu(self.temb0(timestep_embedding(t, self.ch, self.time_scale)))))
        h = self.conv_in(x)
        hs = [h]
        for level in self.down:
            for res, attn in zip(level.res, level.attn):
                h = attn(res(h, emb))
                hs.append(h)
            if level.downsample is not None:
                h = level.downsample(h)
                hs.append(h)
        h = self.mid_res1(self.mid_attn(self.mid_res0(h, emb)), emb)
        for level in self.up:
            for res, attn in zip(level.res, level.attn):
                h = attn(res(torch.cat([h, hs.pop()], dim=1), emb))
            if level.upsample is not None:
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def build_unet(preset):
    return UNet(**PRESETS[preset])


def count_params(preset):
    return sum(p.numel() for p in build_unet(preset).parameters())
