import os

import numpy as np
import pytest
from PIL import Image

from app_toolkit.media import (
    MediaError,
    VideoInfo,
    discover,
    iter_frames,
    read_image,
    video_info,
    write_image,
    write_video,
)


@pytest.fixture
def dataset(tmp_path):
    """A folder as users have them: a photo, a scene in a subfolder, a corrupt JPEG, a truncated
    JPEG and a text file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    (root / "cam1").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)).save(root / "astronaut.png")
    scene = np.kron(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))
    Image.fromarray(scene).save(root / "cam1" / "scene.jpg", quality=95)
    (root / "cam1" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    whole = (root / "cam1" / "scene.jpg").read_bytes()
    (root / "cam1" / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (root / "notes.txt").write_text("not an image")
    return root


def test_discover_mirrors_folders_and_lists_other_files(dataset):
    found = {item.rel.as_posix(): item.kind for item in discover([str(dataset)])}
    assert found == {
        "astronaut.png": "image",
        "notes.txt": "other",
        "cam1/corrupt.jpg": "image",
        "cam1/scene.jpg": "image",
        "cam1/truncated.jpg": "image",
    }


def test_discover_files_globs_and_errors(dataset, tmp_path):
    assert [i.rel.as_posix() for i in discover([str(dataset / "cam1" / "scene.jpg")])] == [
        "scene.jpg"
    ]
    matches = discover([str(dataset / "**" / "s*.jpg")])
    assert [i.rel.as_posix() for i in matches] == ["cam1/scene.jpg"]
    assert discover([str(dataset)], exclude=[dataset / "cam1"])[0].rel.as_posix() == "astronaut.png"
    with pytest.raises(ValueError, match="no such file"):
        discover([str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="matches no file"):
        discover([str(tmp_path / "*.png")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images or videos"):
        discover([str(tmp_path / "empty")])
    other = tmp_path / "other" / "cam1"
    other.mkdir(parents=True)
    (other / "scene.jpg").write_bytes((dataset / "cam1" / "scene.jpg").read_bytes())
    with pytest.raises(ValueError, match="would share the output name"):
        discover([str(dataset / "cam1" / "scene.jpg"), str(other / "scene.jpg")])


def test_corrupt_and_truncated_images_are_named_errors(dataset):
    for name in ("corrupt.jpg", "truncated.jpg"):
        with pytest.raises(MediaError, match="not a readable image"):
            read_image(dataset / "cam1" / name)


def test_images_are_written_atomically_in_their_format(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    write_image(tmp_path / "a" / "x.png", rgb)
    assert np.array_equal(read_image(tmp_path / "a" / "x.png")[0], rgb)
    write_image(tmp_path / "g.png", rgb, mode="L")
    assert Image.open(tmp_path / "g.png").mode == "L"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["g.png", "x.png"]
    with pytest.raises(MediaError, match="extension"):
        write_image(tmp_path / "x.xyz", rgb)


def test_video_round_trip_keeps_frames_fps_and_size(tmp_path):
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(7)]
    path = tmp_path / "clip.mp4"
    assert write_video(path, iter(frames), VideoInfo(12.5, 64, 48, 7)) == 7
    info = video_info(path)
    assert (info.width, info.height, info.fps) == (64, 48, 12.5)
    back = [f for _, f in iter_frames(path)]
    assert len(back) == 7 and abs(int(back[3].mean()) - 30) <= 3
    assert [i for i, _ in iter_frames(path, stride=3)] == [0, 3, 6]
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temporary file left
    with pytest.raises(MediaError, match="expected 5 frames, got 7"):
        write_video(tmp_path / "short.mp4", iter(frames), VideoInfo(12.5, 64, 48, 7), expected=5)
    assert not (tmp_path / "short.mp4").exists()
    (tmp_path / "bad.mp4").write_bytes(b"nope")
    with pytest.raises(MediaError, match="not a readable video"):
        video_info(tmp_path / "bad.mp4")


def test_outputs_get_the_usual_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    finally:
        os.umask(old)
    assert (tmp_path / "x.png").stat().st_mode & 0o777 == 0o644


def test_sixteen_bit_images_are_refused_with_a_reason(tmp_path):
    Image.fromarray(np.full((8, 8), 40000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(MediaError, match="16-bit or float"):
        read_image(tmp_path / "deep.png")


def test_globs_skip_the_output_folder_and_reports(dataset):
    out = dataset / "inner"
    (out / "_anonymize" / "previews").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(out / "astronaut.png")
    Image.new("RGB", (8, 8)).save(out / "_anonymize" / "previews" / "a.png")
    found = discover([str(dataset / "**" / "*.png")], exclude=[out])
    assert [i.rel.as_posix() for i in found] == ["astronaut.png"]
    # a tool's report folders, named in skip=, are never inputs
    found = discover([str(dataset)], skip=("_anonymize",))
    assert "inner/astronaut.png" in [i.rel.as_posix() for i in found]
    assert not any("_anonymize" in i.rel.parts for i in found)


def test_read_images_keys_by_relative_name_and_skips_unreadable(tmp_path):
    from app_toolkit.media import read_images, write_image

    write_image(tmp_path / "a.png", np.zeros((4, 5, 3), np.uint8))
    write_image(tmp_path / "sub" / "b.jpg", np.full((6, 2, 3), 200, np.uint8))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "notes.txt").write_text("x")
    images = read_images([tmp_path])
    assert sorted(images) == ["a", "sub/b"]
    assert images["a"].shape == (4, 5, 3) and images["sub/b"].shape == (6, 2, 3)


def test_same_name_with_another_extension_is_refused(dataset):
    Image.new("RGB", (8, 8)).save(dataset / "astronaut.jpg")
    with pytest.raises(ValueError, match="would share the output name astronaut"):
        discover([str(dataset)])


@pytest.mark.parametrize(
    "out, message",
    [(".", "is the input folder"), ("sub", "lies inside"), ("..", "contains")],
)
def test_output_folder_never_overlaps_an_input_folder(dataset, out, message):
    from app_toolkit.files import check_output_dir

    with pytest.raises(ValueError, match=message):
        check_output_dir(dataset / out, [str(dataset)])
    with pytest.raises(ValueError, match=message):
        check_output_dir(dataset / out, [str(dataset / "*.png")])


def test_output_folder_beside_input_files(dataset, tmp_path):
    from app_toolkit.files import check_output_dir

    with pytest.raises(ValueError, match="is the folder of the input"):
        check_output_dir(dataset, [str(dataset / "astronaut.png")])
    assert check_output_dir(tmp_path / "out", [str(dataset / "astronaut.png")]).name == "out"


def test_a_video_that_kills_the_decoder_is_one_failed_file(tmp_path, monkeypatch):
    """The probe runs in a child process: a decoder that aborts costs a MediaError, not us."""
    import app_toolkit.media as media

    video = tmp_path / "crash.avi"
    video.write_bytes(b"RIFF....AVI LIST")
    code = "import os; os.abort()"
    real_run = media.subprocess.run

    def run(command, **kwargs):
        return real_run([command[0], "-c", code], **kwargs)

    monkeypatch.setattr(media.subprocess, "run", run)
    with pytest.raises(MediaError, match="decoder crashed"):
        video_info(video)


@pytest.mark.parametrize("name", ["out.jpg", "out.png"])
def test_a_short_write_is_never_renamed_into_place(tmp_path, monkeypatch, name):
    """Disk full while Pillow writes: its JPEG encoder ignores the short write. The file must
    fail its completeness check and leave nothing behind."""
    save = Image.Image.save

    def short_write(self, fp, *args, **kwargs):
        save(self, fp, *args, **kwargs)
        data = open(fp, "rb").read()
        open(fp, "wb").write(data[: len(data) // 2])

    monkeypatch.setattr(Image.Image, "save", short_write)
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    with pytest.raises(OSError, match="not written completely"):
        write_image(tmp_path / name, image)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_video_is_refused_not_processed_short(tmp_path):
    frames = [np.full((48, 64, 3), 5 * i, np.uint8) for i in range(40)]
    write_video(tmp_path / "clip.avi", iter(frames), VideoInfo(25.0, 64, 48, 0))
    whole = (tmp_path / "clip.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) // 2])
    assert video_info(tmp_path / "clip.avi").frames == 40
    with pytest.raises(MediaError, match="truncated or damaged: the header states 40 frames"):
        video_info(tmp_path / "cut.avi")
