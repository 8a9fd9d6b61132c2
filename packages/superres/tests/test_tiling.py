import pytest
import torch
import torch.nn.functional as F

from affine_sr.tiling import tile_starts, tiled_apply


def test_tiles_cover_the_image_with_the_overlap():
    assert tile_starts(100, 128, 16) == [0]
    starts = tile_starts(300, 128, 16)
    assert starts[0] == 0 and starts[-1] == 300 - 128
    assert all(b - a <= 128 - 16 for a, b in zip(starts, starts[1:]))
    with pytest.raises(ValueError, match="larger than the overlap"):
        tile_starts(300, 16, 16)


def test_tiled_equals_untiled_away_from_seams_and_memory_follows_the_tile():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 150, 210)

    def upscale(x):  # a local operation, like the model's receptive field
        return F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)

    seen = []

    def recording(x):
        seen.append(x.shape[-2] * x.shape[-1])
        return upscale(x)

    whole = upscale(image)
    tiled = tiled_apply(recording, image, scale=4, tile=64, overlap=16)
    assert tiled.shape == whole.shape
    # equal except within a few pixels of tile borders, where bicubic sees the border
    inner = (tiled - whole)[..., 8:-8, 8:-8].abs()
    assert inner.mean() < 2e-3 and inner.max() < 0.05
    assert max(seen) <= 64 * 64  # no call ever saw more than one tile
