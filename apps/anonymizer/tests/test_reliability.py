"""anonymize as a user (or a hostile file) finds it: no code run from weights files, outputs never
inside the inputs, bad option values refused before work, nothing written to $HOME."""

import json

import pytest

from anonymizer.cli import main
from app_toolkit.testing import (
    assert_home_clean,
    assert_one_line_error,
    assert_refused_at_parse,
    fingerprint,
    run_cli,
    write_bad_files,
    write_image_file,
    write_payload_pt,
)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    write_image_file(folder / "street.png", (64, 96))
    return folder


@pytest.mark.parametrize("option", ["--face-weights", "--plate-weights"])
def test_a_weights_file_never_runs_code(photos, tmp_path, option):
    marker = tmp_path / "pwned"
    pt = write_payload_pt(tmp_path / "evil.pt", marker)
    argv = ["run", photos, "--out", tmp_path / "out", option, pt, "--device", "cpu", "-q"]
    done = run_cli("anonymizer", argv, tmp_path / "home")
    assert not marker.exists(), "unpickling the weights file ran code"
    assert_one_line_error(done.returncode, done.stderr, 2, "not loadable YOLO weights")


def test_bad_files_are_listed_inputs_and_home_untouched(photos, tmp_path):
    write_bad_files(photos)
    before = fingerprint(photos)
    home = tmp_path / "home"
    done = run_cli("anonymizer", ["run", photos, "--out", photos / "anon", "-q"], home)
    assert_one_line_error(done.returncode, done.stderr, 2, "lies inside the input folder")
    done = run_cli("anonymizer", ["run", photos, "--out", tmp_path / "out", "-q"], home)
    assert done.returncode == 0, done.stderr[-600:]
    assert (tmp_path / "out" / "street.png").is_file() and fingerprint(photos) == before
    assert_home_clean(home)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "in", "--out", "o", "--face-threshold=nan"],
        ["run", "in", "--out", "o", "--face-grow=inf"],
        ["run", "in", "--out", "o", "--steps=0"],
        ["run", "in", "--out", "o", "--workers=0"],
        ["synth", "d", "--count=0"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)


def test_a_rerun_with_other_options_is_refused_not_reported_done(photos, tmp_path):
    from anonymizer.pipeline import AnonymizerConfig, anonymize_files

    out = tmp_path / "out"
    anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    again = anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    assert again["status"]["exists"] == 1
    with pytest.raises(ValueError, match=r"other settings \(method\).*--overwrite"):
        anonymize_files([str(photos)], out, AnonymizerConfig(method="pixelate"), progress=False)
    redo = anonymize_files(
        [str(photos)], out, AnonymizerConfig(method="pixelate"), overwrite=True, progress=False
    )
    assert redo["status"]["done"] == 1


def test_an_input_replaced_in_place_is_redone_on_rerun(tmp_path):
    from anonymizer.pipeline import AnonymizerConfig, anonymize_files

    photos, out = tmp_path / "photos", tmp_path / "out"
    for name in ("a.png", "b.png"):
        write_image_file(photos / name, (48, 64), seed=len(name))
    config = AnonymizerConfig(method="blur")
    anonymize_files([str(photos)], out, config, progress=False)
    first = (out / "a.png").read_bytes()
    write_image_file(photos / "a.png", (48, 64), seed=99)  # same name, other picture
    again = anonymize_files([str(photos)], out, config, progress=False)
    assert again["status"] == {"done": 1, "exists": 1}
    assert (out / "a.png").read_bytes() != first


def test_a_killed_runs_temporary_files_are_swept_and_resumed(tmp_path):
    from anonymizer.pipeline import AnonymizerConfig, anonymize_files

    photos, out = tmp_path / "photos", tmp_path / "out"
    write_image_file(photos / "a.png", (48, 64))
    anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    stale = out / ".a.png.k3j_9xq2.incomplete.png"  # what SIGKILL during a write leaves
    stale.write_bytes(b"half")
    again = anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    assert again["status"] == {"exists": 1} and not stale.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "damaged: expected a JSON object"),
        ('{"settings": {}, "outputs": ["a.png"]}', 'damaged: "outputs" is not an object'),
        ('{"settings": {}, "outputs": {"a.png": 3}}', "is not a SHA-256 digest"),
        ("{not json", "damaged: not readable JSON"),
    ],
)
def test_a_damaged_manifest_is_named_as_such(tmp_path, capsys, content, message):
    photos, out = tmp_path / "photos", tmp_path / "out"
    write_image_file(photos / "a.png", (48, 64))
    out.mkdir()
    (out / "run-manifest.json").write_text(content)
    code = main(["run", str(photos), "--out", str(out), "--method", "blur", "-q"])
    assert_one_line_error(code, capsys.readouterr().err, 2, message)
    assert (
        main(["run", str(photos), "--out", str(out), "--method", "blur", "-q", "--overwrite"]) == 0
    )


@pytest.fixture
def scored(tmp_path):
    """A folder with one 64×48 photo, and a writer of truth files."""
    photos = tmp_path / "photos"
    write_image_file(photos / "street.png", (48, 64))

    def truth(entries) -> str:
        path = tmp_path / "truth.json"
        path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
        return str(path)

    return photos, truth


@pytest.mark.parametrize(
    "entries, message",
    [
        ({"street.png": [{"box": [1, 1, 9, 9], "label": "car"}]}, "street.png: box 0: label 'car'"),
        ({"street.png": [{"label": "face"}]}, "street.png: box 0: box must be [x0, y0, x1, y1]"),
        ({"street.png": [{"box": [1, 2, 3], "label": "face"}]}, "box must be [x0, y0, x1, y1]"),
        ('{"street.png": [{"box": [NaN, 1, 9, 9], "label": "face"}]}', "four finite numbers"),
        ({"street.png": [{"box": [9, 1, 1, 9], "label": "face"}]}, "corners swapped"),
        ({"street.png": [{"box": [1, 1, 1, 9], "label": "face"}]}, "no area"),
        ({"street.png": [{"box": [100, 1, 120, 9], "label": "face"}]}, "outside the 64×48 image"),
        ({"street.png": [{"box": [-30, 1, -2, 9], "label": "plate"}]}, "outside the 64×48 image"),
        ({"street.png": {"box": [1, 1, 9, 9]}}, "street.png: expected a list of boxes"),
        ({"street.png": [[{"box": [1, 1, 9, 9], "label": "face"}]]}, "lists videos only"),
    ],
)
def test_evaluate_refuses_malformed_truth_naming_file_image_and_box(
    scored, tmp_path, capsys, entries, message
):
    photos, truth = scored
    code = main(["evaluate", str(photos), "--truth", truth(entries), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert_one_line_error(code, err, 2, message)
    assert "truth.json" in err and not (tmp_path / "o").exists()


def test_evaluate_clips_boxes_past_the_edge_and_lists_absent_names(
    scored, tmp_path, capsys, caplog
):
    photos, truth = scored
    entries = {
        "street.png": [
            {"box": [-10, 5, 20, 30], "label": "face"},
            {"box": [63.6, 1, 64.4, 9], "label": "plate"},  # its last pixel column in the image
        ],
        "gone.png": [],
    }
    code = main(["evaluate", str(photos), "--truth", truth(entries), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "1 truth entries name files not in" in caplog.text and "gone.png" in caplog.text
    assert "2 truth boxes reach past their image" in caplog.text
    assert "faces: " in captured.out and " of 1 replaced" in captured.out


def test_evaluate_and_verify_on_unreadable_data_exit_1_with_one_line(tmp_path, capsys):
    photos = tmp_path / "photos"
    write_bad_files(photos, ["truncated", "corrupt"])
    truth = tmp_path / "truth.json"
    truth.write_text('{"truncated.png": [], "corrupt.jpg": []}')
    argv = ["evaluate", str(photos), "--truth", str(truth), "--out", str(tmp_path / "o"), "-q"]
    assert_one_line_error(main(argv), capsys.readouterr().err, 1, "nothing scored")
    write_bad_files(tmp_path / "anonymized", ["truncated", "corrupt"])
    code = main(["verify", str(tmp_path / "anonymized"), "-q"])
    assert_one_line_error(code, capsys.readouterr().err, 1, "nothing checked")


def test_an_interrupted_run_keeps_the_record_of_what_it_finished(tmp_path, monkeypatch):
    from anonymizer import pipeline
    from anonymizer.pipeline import AnonymizerConfig, anonymize_files

    photos, out = tmp_path / "photos", tmp_path / "out"
    for name in ("a.png", "b.png"):
        write_image_file(photos / name, (48, 64), seed=len(name))
    process_file = pipeline.process_file

    def ctrl_c_on_b(anon, item, *args, **kwargs):
        if item.path.name == "b.png":
            raise KeyboardInterrupt
        return process_file(anon, item, *args, **kwargs)

    monkeypatch.setattr(pipeline, "process_file", ctrl_c_on_b)
    with pytest.raises(KeyboardInterrupt):
        anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    monkeypatch.setattr(pipeline, "process_file", process_file)
    again = anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    assert again["status"] == {"exists": 1, "done": 1}
