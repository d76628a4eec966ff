#!/usr/bin/python3
"""Writes tests/fixtures/transformer_grads.h5: the gradients of a training
step of the small timm ViT and CLIP of ../shared/fixtures (vit_timm, clip),
the reference for tests/unit/test_transformer_tape.c (oiqa's
models/transformer_tape.c and the attention ops of the tape). The shared
fixtures hold the forward outputs only.

The models below are a transcription of the originals' code, module for
module so that the fixtures' state dicts load strictly: timm 0.5.5
`VisionTransformer` (PatchEmbed, Attention with the fused qkv reshaped as
(B, N, 3, heads, hd), Block, exact GELU, LayerNorm eps 1e-6), as vendored in
Roc-3/DPAM_IQA; and OpenAI CLIP's `model.py` (VisionTransformer,
ResidualAttentionBlock over nn.MultiheadAttention in the LND layout,
QuickGELU, LayerNorm computed in fp32, the causal text mask, the end-of-text
gather), as vendored in ZachL1/SIND. Each forward is first checked against
the fixture's outputs (2e-5 + 1e-5 |ref|), which checks the transcription.

How it was run (Debian 12: python3-torch 1.13, python3-h5py 3.7; neither
is a build or test dependency):
    /usr/bin/python3 tests/gen_transformer_grads.py ../shared/fixtures   # from the repository root

Loss of each tower: sum(R_norm * norm) + sum(R_embed * embed), with norm the
final LayerNorm on every token (timm `norm`, CLIP `ln_post` / `ln_final`
applied to all tokens) and embed the head logits (timm), image_embed or
text_embed (CLIP); R_* ~ N(0, 1) from torch.Generator seed 17, stored.
Layout per tower (vit/, clip_image/, clip_text/): R_norm, R_embed, loss [1],
input_grad (images, NCHW; the inputs are the fixtures' input and
image_input), tokens [B, 77] int32 (text), and
grad/<state-dict key> for every parameter of the tower; for the text token
embedding only the rows of the ids that occur (token_rows int32, sorted).
"""
import sys
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)


# ---- timm 0.5.5 VisionTransformer (the parts the configuration uses) ----
class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TimmAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TimmBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = TimmAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TimmViT(nn.Module):
    def __init__(self, img=64, patch=8, dim=64, depth=4, heads=2, classes=10):
        super().__init__()
        self.patch_embed = PatchEmbed(patch, dim)
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.Sequential(*[TimmBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        outs = []
        for b in self.blocks:
            x = b(x)
            outs.append(x)
        norm = self.norm(x)
        return outs, norm, self.head(norm[:, 0])


# ---- OpenAI CLIP model.py ----
class LayerNorm(nn.LayerNorm):
    def forward(self, x):
        t = x.dtype
        return super().forward(x.type(torch.float32)).type(t)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d, h, mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h)
        self.ln_1 = LayerNorm(d)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(d, 4 * d)), ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(4 * d, d))]))
        self.ln_2 = LayerNorm(d)
        self.attn_mask = mask

    def forward(self, x):
        m = self.attn_mask.to(dtype=x.dtype) if self.attn_mask is not None else None
        x = x + self.attn(self.ln_1(x), self.ln_1(x), self.ln_1(x), need_weights=False, attn_mask=m)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, mask) for _ in range(layers)])

    def forward(self, x):
        outs = []
        for b in self.resblocks:
            x = b(x)
            outs.append(x)
        return x, outs


class VisionTransformer(nn.Module):
    def __init__(self, res, patch, width, layers, heads, out):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros((res // patch) ** 2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, out))

    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype))
        x, outs = self.transformer(x.permute(1, 0, 2))
        norm = self.ln_post(x.permute(1, 0, 2))  # ln_post is per token: all tokens, CLS = row 0
        return [o.permute(1, 0, 2) for o in outs], norm, norm[:, 0, :] @ self.proj


class CLIP(nn.Module):
    def __init__(self):
        super().__init__()
        ctx, width = 77, 64
        mask = torch.empty(ctx, ctx).fill_(float("-inf")).triu_(1)
        self.visual = VisionTransformer(64, 16, 64, 2, 2, 32)
        self.transformer = Transformer(width, 2, 2, mask)
        self.token_embedding = nn.Embedding(49408, width)
        self.positional_embedding = nn.Parameter(torch.empty(ctx, width))
        self.ln_final = LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, 32))
        self.logit_scale = nn.Parameter(torch.ones([]))

    def encode_text(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x, outs = self.transformer(x.permute(1, 0, 2))
        norm = self.ln_final(x.permute(1, 0, 2))
        return [o.permute(1, 0, 2) for o in outs], norm, norm[torch.arange(norm.shape[0]), text.argmax(-1)] @ self.text_projection


def close(name, got, ref):
    got, ref = got.detach().numpy(), np.asarray(ref)
    err = np.abs(got - ref) - (2e-5 + 1e-5 * np.abs(ref))
    assert err.max() <= 0, f"{name}: transcription differs from the fixture by {np.abs(got - ref).max():.3g}"


def step(out, group, params, norm, embed, gen, inp=None):
    g = out.create_group(group)
    rn = torch.randn(norm.shape, generator=gen)
    re = torch.randn(embed.shape, generator=gen)
    loss = (rn * norm).sum() + (re * embed).sum()
    loss.backward()
    g["R_norm"], g["R_embed"] = rn.numpy(), re.numpy()
    g["loss"] = np.array([loss.item()], np.float32)
    if inp is not None:
        g["input_grad"] = inp.grad.numpy()
    for name, p in params:
        grad = p.grad.numpy()
        if name == "token_embedding.weight":
            rows = np.nonzero(np.abs(grad).sum(1))[0].astype(np.int32)
            g["token_rows"], grad = rows, grad[rows]
        g.create_dataset("grad/" + name, data=grad, compression="gzip", shuffle=True)
    print(f"{group}: loss {loss.item():.6g}, {len(params)} gradients")


def main(fixtures):
    gen = torch.Generator().manual_seed(17)
    with h5py.File("tests/fixtures/transformer_grads.h5", "w") as out:
        vit = TimmViT()
        vit.load_state_dict(torch.load(f"{fixtures}/vit_timm/vit_small_p8_64.pth"), strict=True)
        io = h5py.File(f"{fixtures}/vit_timm/vit_small_io.h5", "r")
        x = torch.tensor(io["input"][()], requires_grad=True)
        blocks, norm, logits = vit(x)
        for i, b in enumerate(blocks):
            close(f"vit block{i}", b, io[f"block{i}"][()])
        close("vit norm", norm, io["norm"][()]), close("vit head", logits, io["head_logits_cls"][()])
        step(out, "vit", list(vit.named_parameters()), norm, logits, gen, x)

        clip = CLIP()
        clip.load_state_dict(torch.load(f"{fixtures}/clip/clip_small_fp32.pth"), strict=True)
        io = h5py.File(f"{fixtures}/clip/clip_small_io.h5", "r")
        x = torch.tensor(io["image_input"][()], requires_grad=True)
        blocks, norm, emb = clip.visual(x)
        for i, b in enumerate(blocks):
            close(f"clip image block{i}", b, io[f"vision/block{i}"][()])
        close("clip cls", norm[:, 0], io["vision/cls_ln_post"][()]), close("clip image_embed", emb, io["image_embed"][()])
        visual = [("visual." + n, p) for n, p in clip.visual.named_parameters()]
        step(out, "clip_image", visual, norm, emb, gen, x)

        tokens = torch.tensor(io["text_tokens"][()].astype(np.int64))
        blocks, norm, emb = clip.encode_text(tokens)
        for i, b in enumerate(blocks):
            close(f"clip text block{i}", b, io[f"text/block{i}"][()])
        close("clip ln_final", norm, io["text/ln_final"][()]), close("clip text_embed", emb, io["text_embed"][()])
        text = [(n, p) for n, p in clip.named_parameters() if not n.startswith("visual.") and n != "logit_scale"]
        step(out, "clip_text", text, norm, emb, gen)
        out["clip_text"]["tokens"] = tokens.numpy().astype(np.int32)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures")
