#!/usr/bin/python3
"""Makes the small test images in tests/data once (not run by the build or CI).

Sources are the CC0 panoramas in data/panoramas (see data/panoramas/license.txt).
Run with Debian's python3-opencv and python3-numpy: /usr/bin/python3 tests/data/make_test_images.py
"""
import os
import cv2
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
pano = os.path.join(here, "..", "..", "data", "panoramas")
city = cv2.imread(os.path.join(pano, "city_tonemapped.png"))

# A 2:1 JPEG ERP (512x256) for the JPEG paths and truncation tests.
cv2.imwrite(os.path.join(here, "city_512.jpg"), cv2.resize(city, (512, 256), interpolation=cv2.INTER_AREA),
            [cv2.IMWRITE_JPEG_QUALITY, 85])
# A 2:1 BMP (64x32).
cv2.imwrite(os.path.join(here, "city_64.bmp"), cv2.resize(city, (64, 32), interpolation=cv2.INTER_AREA))
# A square image: not 2:1.
cv2.imwrite(os.path.join(here, "square_64.png"), cv2.resize(city, (64, 64), interpolation=cv2.INTER_AREA))
# 1x1 pixel.
cv2.imwrite(os.path.join(here, "one_pixel.png"), city[:1, :1])
# 16-bit RGB PNG with known values: v16 = 257*v8 + offsets that round differently.
g = np.zeros((4, 8, 3), np.uint16)
g[0, :, 0] = [0, 128, 129, 32767, 32768, 65407, 65408, 65535]   # red row: rounding edges
g[1, :, 1] = np.arange(8) * 257 * 30                             # exact multiples of 257
g[2:, :, 2] = 65535
cv2.imwrite(os.path.join(here, "rgb16_8x4.png"), g[:, :, ::-1])  # cv2 writes BGR
# Grey and RGBA PNGs (8x4).
grey = cv2.cvtColor(cv2.resize(city, (8, 4), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
cv2.imwrite(os.path.join(here, "grey_8x4.png"), grey)
rgba = cv2.cvtColor(cv2.resize(city, (8, 4), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2BGRA)
rgba[:, :, 3] = 7
cv2.imwrite(os.path.join(here, "rgba_8x4.png"), rgba)
