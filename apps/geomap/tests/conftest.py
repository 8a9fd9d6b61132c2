"""A small synthetic scene written as GeoTIFFs, with NaN pixels and a cloud mask."""

from __future__ import annotations

import numpy as np
import pytest

from geomap.synth import make_scene, write_scene


@pytest.fixture(scope="session")
def scene_files(tmp_path_factory):
    scene = make_scene((96, 128), units=4, seed=3, clouds=0.08)
    scene.image[:, :5, :7] = np.nan  # a nodata corner
    paths = write_scene(tmp_path_factory.mktemp("scene"), scene)
    return {**paths, "scene_obj": scene}
