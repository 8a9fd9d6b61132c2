"""Differentiable augmentation: what each augmentation does, that gradients pass, and the option."""

import pytest
import torch

from app_toolkit.testing import assert_one_line_error
from seed_gan.cli import main
from seed_gan.diffaugment import diff_augment, parse_policy


def test_each_augmentation_is_differentiable_and_keeps_the_shape():
    x = torch.randn(6, 3, 32, 32, requires_grad=True)
    for policy in (("translation",), ("cutout",), ("color",), parse_policy("translation,cutout")):
        y = diff_augment(x, policy)
        assert y.shape == x.shape
        (grad,) = torch.autograd.grad(y.square().sum(), x)
        assert grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, parse_policy("")), x)


def test_translation_shifts_whole_pixels_and_cutout_blanks_a_quarter():
    torch.manual_seed(0)
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(64, 1, 2, 2)  # 8×8, a shift is visible
    shifted = diff_augment(x, ("translation",))
    values = set(x.unique().tolist()) | {0.0}
    assert set(shifted.unique().tolist()) <= values  # whole-pixel moves, zeros shifted in
    assert (shifted != x).any(dim=(1, 2, 3)).float().mean() > 0.5
    blank = diff_augment(torch.ones(32, 1, 16, 16), ("cutout",))
    assert torch.allclose((blank == 0).float().mean((1, 2, 3)), torch.tensor(0.25))


def test_an_unknown_augmentation_is_one_line_before_any_work(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        parse_policy("translation,flip")
    argv = ["gan", "train", str(tmp_path / "none"), "--out", str(tmp_path / "g"), "-q"]
    code = main([*argv, "--diffaugment", "flip"])
    assert_one_line_error(code, capsys.readouterr().err, 2, "unknown augmentation 'flip'")
    assert not (tmp_path / "g").exists()
