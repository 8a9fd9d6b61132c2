import json

import numpy as np
import pytest

from geomap.kselect import K_METHODS
from geomap.metrics import agreement, majority_filter
from geomap.model import GeoMapModel
from geomap.synth import make_scene


@pytest.fixture(scope="module")
def pixels():
    scene = make_scene((64, 64), units=3, seed=1)
    return scene.image.reshape(10, -1).T, scene.units.ravel()


@pytest.mark.parametrize("reducer", ["pca", "ae", "sae", "raw"])
def test_every_reducer_fits_predicts_and_round_trips(pixels, reducer, tmp_path):
    x, truth = pixels
    model = GeoMapModel(10, reducer, k=3, epochs=3).fit(x, progress=False)
    labels = model.predict(x)
    assert labels.dtype == np.uint8 and set(np.unique(labels)) <= {1, 2, 3}
    assert model.features(x[:5]).shape[0] == 5
    model.save_pretrained(tmp_path / "m")
    again = GeoMapModel.from_pretrained(tmp_path / "m")
    assert np.array_equal(again.predict(x), labels)
    assert again.config == model.config


def test_sae_matches_the_paper_layout():
    model = GeoMapModel(6, "sae", k=3)
    from geomap.model import StackedAutoencoder

    sae = StackedAutoencoder(6)
    sizes = [m.out_features for m in sae.first.modules() if hasattr(m, "out_features")]
    assert sizes == [4, 2, 4, 6]
    sizes = [m.out_features for m in sae.second.modules() if hasattr(m, "out_features")]
    assert sizes == [5, 2, 5, 12]
    assert model.config["reducer"] == "sae"


@pytest.mark.parametrize("method", K_METHODS)
def test_every_criterion_finds_k_on_separated_clusters(method):
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.1, 1, (4, 5))  # reflectance-like: well above the log floor
    x = np.concatenate([c + 0.01 * rng.normal(size=(300, 5)) for c in centres]).astype(np.float32)
    model = GeoMapModel(5, "pca", k=None, k_max=8, k_method=method).fit(x, progress=False)
    choice = model.k_choice
    assert model.k == 4 and choice["method"] == method and choice["ks"][0] == 2
    assert choice["runner_up"] != 4 and len(choice["curve"]) == len(choice["ks"]) == 7
    with pytest.raises(ValueError, match="k method"):
        GeoMapModel(5, k_method="guess")


def test_demp_merges_the_components_of_a_unit_that_is_not_one_gaussian():
    from geomap.kselect import DEMP_THRESHOLD, choose_k, demp_merge

    rng = np.random.default_rng(0)

    def unit(centre):  # heavy-tailed, so BIC gives it a narrow and a wide component
        return np.concatenate([centre + 0.3 * rng.normal(size=(420, 2)),
                               centre + 1.2 * rng.normal(size=(180, 2))])  # fmt: skip

    x = np.concatenate([unit(np.array(c, float)) for c in ((0, 0), (8, 0), (0, 8))])
    bic, demp = choose_k(x, 8, 0, "bic"), choose_k(x, 8, 0, "demp")
    assert bic["k"] == 6 and demp["k"] == 3 and demp["runner_up"] in (2, 4)
    known = [p for p in demp["curve"] if p is not None]
    assert len(known) == bic["k"] - 1  # one value per number of clusters, up to the mixture's
    # among four clusters two are one unit (merged); among three, no pair is (kept)
    assert demp["curve"][1] < DEMP_THRESHOLD <= demp["curve"][2]
    # two identical components are one cluster: everything misclassified, merged first
    assert demp_merge(np.full((10, 2), 0.5)) == pytest.approx([1.0])
    assert demp_merge(np.eye(3)[[0, 1, 2, 2]]) == [0.0, 0.0]


def test_the_raw_reducer_is_the_scaled_bands():
    x = np.random.default_rng(0).uniform(0, 1, (400, 3)).astype(np.float32)
    model = GeoMapModel(3, "raw", k=3).fit(x, progress=False)
    assert np.allclose(model.features(x), model.scale(x))
    assert model.predict(x).max() == 3


def _shaded_units(seed=0, n=2000):
    """Two units, a bright and a dark one with other spectral shapes, under strong shading (each
    pixel's bands multiplied by one factor in 0.5..1.5) and a little noise."""
    rng = np.random.default_rng(seed)
    spectra = np.array([[0.40, 0.30, 0.20, 0.30], [0.10, 0.20, 0.30, 0.10]], np.float32)
    truth = rng.integers(0, 2, n)
    shade = rng.uniform(0.5, 1.5, (n, 1))
    x = spectra[truth] * shade * (1 + 0.01 * rng.normal(size=(n, 4)))
    return x.astype(np.float32), truth + 1


def test_log_transform_turns_shading_into_one_shift_and_survives_zeros():
    x, _ = _shaded_units()
    assert GeoMapModel(4).config["transform"] == "deshaded"  # the default
    model = GeoMapModel(4, "raw", k=2, transform="log").fit(x, progress=False)
    assert np.allclose(model.transformed(x * 0.7) - model.transformed(x), np.log(0.7), atol=1e-5)
    odd = np.array([[0.0, -0.1, 0.2, 0.3]], np.float32)  # zero and negative reflectance
    assert np.isfinite(model.features(odd)).all() and model.predict(odd)[0] in (1, 2)
    with pytest.raises(ValueError, match="transform"):
        GeoMapModel(4, transform="sqrt")


def test_log_bands_keep_shaded_units_apart_where_linear_bands_split_them():
    x, truth = _shaded_units()
    accuracy = {}
    for transform in ("log", "linear"):
        labels = GeoMapModel(4, "raw", k=2, transform=transform).fit(x, progress=False).predict(x)
        accuracy[transform] = max(np.mean(labels == truth), np.mean(labels != truth))
    assert accuracy["log"] > 0.99 and accuracy["linear"] < 0.95, accuracy


def test_deshaded_bands_shrink_shading_to_a_third_and_keep_shape():
    from geomap.model import DESHADE

    x, _ = _shaded_units()
    model = GeoMapModel(4, "raw", k=2, transform="deshaded").fit(x, progress=False)
    shift = model.transformed(x * 0.7) - model.transformed(x)
    assert np.allclose(shift, DESHADE * np.log(0.7), atol=1e-5)
    # the spectral shape (log bands minus their mean) is the log transform's
    logs = GeoMapModel(4, "raw", k=2, transform="log").fit(x, progress=False).transformed(x)
    shape = model.transformed(x) - model.transformed(x).mean(1, keepdims=True)
    assert np.allclose(shape, logs - logs.mean(1, keepdims=True), atol=1e-5)


def test_segment_means_average_noise_inside_units():
    from geomap.kselect import segment_means

    rng = np.random.default_rng(0)
    units = np.zeros((64, 64), int)
    units[:, 32:] = 1
    centres = np.array([[0.0, 0.0], [1.0, 1.0]])
    features = centres[units.ravel()] + rng.normal(0, 0.5, (64 * 64, 2))
    valid = np.ones((64, 64), bool)
    valid[:8] = False  # masked rows take no part
    means = segment_means(features, valid)
    assert 40 <= len(means) <= 200
    # each superpixel lies inside one unit: its mean sits near that unit's centre
    nearest = np.min(np.linalg.norm(means[:, None] - centres[None], axis=-1), axis=1)
    assert np.median(nearest) < 0.15 and np.abs(features).std() > 0.5
    with pytest.raises(ValueError, match="valid pixels"):
        segment_means(features, np.zeros((64, 64), bool))


def test_spatial_kmeans_labels_better_than_the_nearest_centre():
    from geomap.metrics import spatial_kmeans

    rng = np.random.default_rng(0)
    truth = np.zeros((48, 48), int)
    truth[:, 24:] = 1
    features = np.array([[0.0], [1.0]])[truth] + rng.normal(0, 0.5, (48, 48, 1))
    valid = np.ones((48, 48), bool)
    valid[0] = False
    start = np.array([[0.2], [0.8]], np.float32)  # off-centre, as a poor k-means would leave them
    plain = np.argmin(np.abs(features - start[:, 0]), axis=-1)
    labels, centers = spatial_kmeans(features, start, valid)
    accuracy = lambda lab: np.mean(lab[valid] == truth[valid])  # noqa: E731
    assert accuracy(labels) > accuracy(plain) + 0.03
    # the centres move from where k-means left them towards the units' own
    assert np.abs(centers[:, 0] - [0, 1]).max() < np.abs(start[:, 0] - [0, 1]).max()
    assert (labels[0] == -1).all()


def test_k_judged_on_a_window_is_recorded(pixels):
    x, _ = pixels
    side = int(np.sqrt(len(x)))
    window = (x[: side * side], np.ones((side, side), bool))
    model = GeoMapModel(10, "raw", k_max=6, k_method="silhouette", k_check="none")
    model.fit(x, False, window=window, k_on="segments")
    assert model.k_choice["judged"] == "segments" and 2 <= model.k <= 6
    assert "checks" not in model.k_choice
    assert GeoMapModel(10, "raw", k_max=6).fit(x, False).k_choice["judged"] == "pixels"
    with pytest.raises(ValueError, match="window"):
        GeoMapModel(10, "raw").fit(x, False, k_on="segments")
    with pytest.raises(ValueError, match="k check"):
        GeoMapModel(10, "raw", k_check="drop")


def test_interior_shares_tell_a_unit_from_a_contact():
    from geomap.kselect import interior_shares

    labels = np.ones((40, 40), np.uint8)
    labels[:, 20:] = 2
    labels[:, 19] = 3  # a one-pixel seam between the two units, as mixed pixels leave
    labels[:, :4] = 4  # a unit cut by the window's edge, 4 pixels deep
    labels[:10, 30:] = 0  # nodata (clouds) beside unit 2
    shares = interior_shares(labels, labels, 6)
    assert shares[0] > 0.5 and shares[1] > 0.7 and shares[2] == 0
    assert shares[3] == 0.5  # the two columns at the edge are interior: the edge does not count
    assert np.isnan(shares[4]) and np.isnan(shares[5])  # absent: not judged
    # shares count the pixels before the filter: a unit the filter wiped out has none inside
    cleaned = labels.copy()
    cleaned[cleaned == 3] = 1
    assert interior_shares(cleaned, labels, 6)[2] == 0


def test_a_unit_split_by_uneven_light_is_one_unit_but_a_contact_is_not():
    from geomap.kselect import edge_contrast

    rng = np.random.default_rng(0)
    h, w = 64, 96
    reflectance = np.empty((h, w, 4))
    reflectance[:, :48] = [0.2, 0.3, 0.4, 0.5]  # unit 1
    reflectance[:, 48:] = [0.5, 0.4, 0.3, 0.2]  # unit 2: another spectrum
    light = np.linspace(0.75, 1.25, h)[:, None, None]  # shading from top to bottom
    pixels = (reflectance * light + rng.normal(0, 0.004, (h, w, 4))).reshape(-1, 4)
    model = GeoMapModel(4, "raw", k=3).fit(pixels.astype(np.float32), progress=False)
    # three clusters: unit 2, and unit 1 cut into a dark top and a bright bottom
    cleaned = np.where(np.arange(w) < 48, np.where(np.arange(h)[:, None] < 32, 1, 2), 3)
    grid = model.features(pixels.astype(np.float32)).reshape(h, w, -1)
    contrast = edge_contrast(cleaned.astype(np.uint8), grid, 3)
    assert contrast[(1, 2)] < 3 < min(contrast[(1, 3)], contrast[(2, 3)])
    shaded = model._shaded_pairs(cleaned, grid, pixels.astype(np.float32), 3)
    assert [pair[:2] for pair in shaded] == [[1, 2]]
    assert json.loads(json.dumps(shaded)) == shaded  # plain numbers, for metrics.json
    assert edge_contrast(cleaned[:5].astype(np.uint8), grid[:5], 3).keys() <= {(1, 3), (2, 3)}
    with pytest.raises(ValueError, match="even"):
        edge_contrast(cleaned.astype(np.uint8), grid, 3, offset=5)


def test_units_without_an_interior_are_merged_away():
    scene = make_scene((96, 96), units=3, seed=1, mixing=2.5)
    x = scene.image.reshape(10, -1).T
    window = (x, np.ones((96, 96), bool))
    model = GeoMapModel(10, "raw", k=3).fit(x, progress=False)
    features = model.features(x)
    k, centers, rounds = model.check_k(features, window, 5)
    assert k == 3 and centers.shape == (3, 10) and [r["k"] for r in rounds] == [5, 4, 3]
    judged = [[v for v in r["interior_shares"] if v is not None] for r in rounds]
    assert min(judged[0]) < 0.1 <= min(judged[-1])
    assert model.check_k(features, window, 3)[0] == 3  # true units stay
    # the whole fit records the criterion's k beside the one kept, as plain JSON (float32 features)
    for reducer in ("raw", "pca"):
        fitted = GeoMapModel(10, reducer, k_max=8).fit(x, False, window=window)
        chosen = fitted.k_choice
        assert fitted.k == chosen["k"] == chosen["checks"][-1]["k"] == 3
        assert chosen["k_criterion"] >= 3 and json.loads(json.dumps(chosen)) == chosen
    # a window with too few valid pixels is not a map to judge k by
    few = (x, np.zeros((96, 96), bool))
    few[1][:10, :10] = True
    assert "checks" not in GeoMapModel(10, "raw", k_max=8).fit(x, False, window=few).k_choice


def test_models_saved_before_the_transform_load_as_linear(tmp_path, pixels):
    import json

    x, _ = pixels
    model = GeoMapModel(10, "pca", k=3, transform="linear").fit(x, progress=False)
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["transform"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    again = GeoMapModel.from_pretrained(tmp_path)
    assert again.config["transform"] == "linear"
    assert np.array_equal(again.predict(x), model.predict(x))


def test_bad_arguments_and_checkpoints(tmp_path):
    with pytest.raises(ValueError, match="reducer"):
        GeoMapModel(5, "tsne")
    with pytest.raises(ValueError, match="at least 2 bands"):
        GeoMapModel(1)
    with pytest.raises(ValueError, match="constant"):
        GeoMapModel(3, "pca", k=2).fit(np.ones((500, 3), np.float32))
    with pytest.raises(ValueError, match="not a saved geomap model"):
        GeoMapModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"class": "GeoMapModel", "bands": 3}')
    (tmp_path / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(ValueError, match="corrupt"):
        GeoMapModel.from_pretrained(tmp_path)


def test_majority_filter_removes_specks_and_keeps_nodata():
    labels = np.ones((20, 20), np.uint8)
    labels[:, 10:] = 2
    labels[5, 5] = 2  # a speck
    labels[0, 0] = 0  # nodata
    out = majority_filter(labels, 3, 2)
    assert out[5, 5] == 1 and out[0, 0] == 0
    assert (out[:, 12:] == 2).all() and (out[1:, :9] == 1).all()
    assert np.array_equal(majority_filter(labels, 1, 2), labels)
    with pytest.raises(ValueError, match="odd"):
        majority_filter(labels, 4, 2)


def test_agreement_matches_labels_optimally():
    reference = np.repeat(np.array([[1, 2, 3]], np.uint8), 4, axis=0)
    predicted = np.array([[3, 1, 2]] * 4, np.uint8)  # same partition, other names
    result = agreement(predicted, reference)
    assert result["accuracy"] == 1.0 and result["adjusted_rand_index"] == 1.0
    assert result["matching"] == {3: 1, 1: 2, 2: 3}
    predicted[0, 0] = 1
    assert agreement(predicted, reference)["accuracy"] == pytest.approx(11 / 12)
    with pytest.raises(ValueError, match="no labelled pixel"):
        agreement(np.zeros((2, 2), np.uint8), reference[:2, :2])


def test_kappa_and_f1_follow_the_matching():
    from sklearn.metrics import cohen_kappa_score, f1_score

    rng = np.random.default_rng(0)
    reference = rng.integers(1, 4, (20, 20)).astype(np.uint8)
    predicted = (reference % 3 + 1).astype(np.uint8)  # renamed: 1→2, 2→3, 3→1
    noisy = rng.random(reference.shape) < 0.2
    predicted[noisy] = rng.integers(1, 4, noisy.sum())
    result = agreement(predicted, reference)
    matched = np.vectorize(result["matching"].get)(predicted)
    assert result["kappa"] == pytest.approx(cohen_kappa_score(reference.ravel(), matched.ravel()))
    per_unit = f1_score(reference.ravel(), matched.ravel(), average=None, labels=[1, 2, 3])
    assert [result["f1"][u] for u in (1, 2, 3)] == pytest.approx(list(per_unit))
    # a reference unit no map unit is matched to scores 0
    assert agreement(np.ones_like(reference), reference)["f1"][2] == 0.0


def test_the_seed_fixes_the_result(pixels):
    x, _ = pixels
    runs = [GeoMapModel(10, "sae", k=3, epochs=2, seed=5).fit(x, progress=False) for _ in range(2)]
    assert np.array_equal(runs[0].predict(x), runs[1].predict(x))


def test_mismatched_checkpoints_are_value_errors(pixels, tmp_path):
    x, _ = pixels
    GeoMapModel(10, "ae", k=3, epochs=1).fit(x, progress=False).save_pretrained(tmp_path)
    config = (tmp_path / "config.json").read_text()
    (tmp_path / "config.json").write_text(config.replace('"ae"', '"sae"'))
    with pytest.raises(ValueError, match="do not fit"):
        GeoMapModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a geomap model config"):
        GeoMapModel.from_pretrained(tmp_path)
