import csv

import numpy as np
import pytest
from PIL import Image

from seed_gan.classifier import SeedClassifier
from seed_gan.grade import grade_lot
from seed_gan.synth import draw_seed


def test_views_are_graded_together_and_subfolders_are_kept(tmp_path):
    rng = np.random.default_rng(0)
    lot = tmp_path / "lot"
    (lot / "tray2").mkdir(parents=True)
    for name in ("k1_top.png", "k1_bottom.png", "k2.png", "tray2/k1.png"):
        Image.fromarray(draw_seed("pure", rng, 32)).save(lot / name)
    before = sorted(p.read_bytes() for p in lot.rglob("*.png"))
    model = SeedClassifier(["broken", "pure"], "shufflenet_v2_x0_5", size=32)
    summary = grade_lot(lot, model, tmp_path / "report", progress=False)
    assert summary["kernels"] == 3 and summary["images"] == 4 and summary["skipped"] == []
    rows = {r["seed"]: r for r in csv.DictReader((tmp_path / "report" / "seeds.csv").open())}
    assert set(rows) == {"k1", "k2", "tray2/k1"}
    assert rows["k1"]["files"] == "k1_bottom.png;k1_top.png"
    assert abs(float(rows["k1"]["p_broken"]) + float(rows["k1"]["p_pure"]) - 1) < 1e-3
    # no report inside the lot (it would be graded next time), and the inputs are untouched
    with pytest.raises(ValueError, match="lies inside the input folder"):
        grade_lot(lot, model, lot / "report", progress=False)
    assert sorted(p.read_bytes() for p in lot.rglob("*.png")) == before
    # the same kernel as .png and .jpg is refused, not merged
    Image.fromarray(draw_seed("pure", rng, 32)).save(lot / "k2.jpg")
    with pytest.raises(ValueError, match="would be graded as one photograph"):
        grade_lot(lot, model, tmp_path / "report2", progress=False)
