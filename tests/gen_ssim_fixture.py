#!/usr/bin/python3
"""Writes tests/fixtures/ssim_skimage.h5: scikit-image's SSIM and PSNR on a few
crops of the shipped CC0 panoramas and distorted copies of them, the
reference for tests/unit/test_iqa_ssim.c (oiqa's iqa/ssim.c).

How it was run (Debian 12: python3-skimage 0.19.3, python3-numpy, python3-h5py,
installed with `apt-get install -y python3-skimage python3-h5py`; not build
or test dependencies):
    /usr/bin/python3 tests/gen_ssim_fixture.py          # from the repository root

Layout: /crops/NAME/clean is a uint8 [H,W,3] crop, /crops/NAME/DIST (noise10,
blur2, contrast, posterize) its distorted copies, each with the attributes
ssim (structural_similarity with channel_axis=-1, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255) and psnr
(peak_signal_noise_ratio, data_range=255) of (clean, DIST).
The distortions are deterministic (numpy's PCG64 with fixed seeds, scipy's
gaussian_filter); they only need to be varied, not to match oiqa's own.
"""
import numpy as np
import h5py
from scipy.ndimage import gaussian_filter
from skimage.io import imread
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

CROPS = [  # panorama, row, col, height, width
    ("city_tonemapped.png", 200, 300, 64, 64),
    ("forest_tonemapped.png", 240, 600, 64, 64),
    ("interior_tonemapped.png", 180, 100, 48, 80),
]


def u8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def distortions(a, seed):
    rng = np.random.default_rng(seed)
    f = a.astype(np.float64)
    return {
        "noise10": u8(f + rng.normal(0, 10, a.shape)),
        "blur2": u8(np.stack([gaussian_filter(f[..., c], 2.0, mode="reflect") for c in range(3)], -1)),
        "contrast": u8((f - 128) * 0.6 + 140),
        "posterize": (a // 32 * 32 + 16).astype(np.uint8),
    }


def main():
    with h5py.File("tests/fixtures/ssim_skimage.h5", "w") as out:
        out.attrs["generator"] = "tests/gen_ssim_fixture.py"
        import skimage
        out.attrs["skimage"] = skimage.__version__
        for k, (png, r, c, h, w) in enumerate(CROPS):
            a = imread(f"data/panoramas/{png}")[r:r + h, c:c + w, :3].copy()
            grp = out.create_group(f"crops/{png.split('_')[0]}")
            grp.create_dataset("clean", data=a, compression="gzip", compression_opts=9)
            for name, b in distortions(a, 1000 + k).items():
                g = grp.create_dataset(name, data=b, compression="gzip", compression_opts=9)
                g.attrs["ssim"] = structural_similarity(
                    a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                    use_sample_covariance=False, data_range=255)
                g.attrs["psnr"] = peak_signal_noise_ratio(a, b, data_range=255)
                print(g.name, g.attrs["ssim"], g.attrs["psnr"])


if __name__ == "__main__":
    main()
