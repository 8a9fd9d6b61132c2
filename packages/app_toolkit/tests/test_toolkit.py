import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from app_toolkit.checkpoint import CheckpointError, PretrainedMixin, register_to_config
from app_toolkit.cli import COMMON, make_main
from app_toolkit.devices import resolve_device
from app_toolkit.files import write_csv, write_json


class Tiny(PretrainedMixin, nn.Module):
    @register_to_config
    def __init__(self, width: int = 3, name: str = "tiny"):
        super().__init__()
        self.linear = nn.Linear(width, width)


class Wider(Tiny):
    @register_to_config
    def __init__(self, width: int = 5):
        super().__init__(width, name="wider")


class Forgotten(Tiny):
    def __init__(self):
        super().__init__(4)


def test_base_import_loads_no_optional_dependency():
    code = "import sys, app_toolkit.cli, app_toolkit.checkpoint, app_toolkit.plots; " + (
        "print(sorted(m for m in ('cv2', 'matplotlib', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_checkpoint_round_trip_records_the_outermost_constructor(tmp_path):
    model = Wider(width=6)
    assert model.config == {"width": 6}
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["_class_name"] == "Wider"
    loaded = Wider.from_pretrained(tmp_path)
    assert torch.equal(loaded.linear.weight, model.linear.weight)
    with pytest.raises(CheckpointError, match="holds a Wider, not a Tiny"):
        Tiny.from_pretrained(tmp_path)


def test_undecorated_constructor_refuses_to_save(tmp_path):
    with pytest.raises(TypeError, match="register_to_config"):
        Forgotten().save_pretrained(tmp_path)


def test_truncated_weights_are_a_checkpoint_error(tmp_path):
    Tiny().save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x01")
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        Tiny.from_pretrained(tmp_path)


def test_reports_are_written(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    write_csv(tmp_path / "b.csv", ["x", "y"], [[1, 2]])
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    assert (tmp_path / "b.csv").read_text().splitlines() == ["x,y", "1,2"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_resolve_device_rejects_unknown():
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")


class _Hello:
    @staticmethod
    def add_parser(sub):
        parser = sub.add_parser("hello")
        parser.add_argument("--times", type=int, default=1)
        parser.set_defaults(run=_Hello.run)

    @staticmethod
    def run(args):
        if args.times < 0:
            raise ValueError("--times must be >= 0")
        print("hello " * args.times)
        return 0


def test_make_main_runs_subcommands_env_and_one_line_errors(capsys):
    main = make_main("demo-tool", "A demo.", "1.2.3", (_Hello,), env_packages=("numpy",))
    assert main(["hello", "--times", "2"]) == 0
    assert "hello hello" in capsys.readouterr().out
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "demo-tool" in out and "numpy" in out and "torch" in out
    assert main(["hello", "--times", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "demo-tool hello: error: --times must be >= 0"
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and "demo-tool 1.2.3" in capsys.readouterr().out


def test_non_finite_weights_are_never_saved(tmp_path):
    model = Tiny()
    with torch.no_grad():
        model.linear.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite weights"):
        model.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_float_options_refuse_non_finite_values(value, capsys):
    class Rate:
        @staticmethod
        def add_parser(sub):
            sub.add_parser("fit").add_argument("--lr", type=float, default=0.1)

    main = make_main("demo-tool", "A demo.", "1", (Rate,))
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", f"--lr={value}"])
    assert exit_info.value.code == 2 and "must be a finite number" in capsys.readouterr().err


def test_bounded_range():
    from app_toolkit.cli import bounded

    parse = bounded(int, 1, 10)
    assert parse("3") == 3
    for bad in ("0", "11", "x"):
        with pytest.raises(Exception, match="must be in|expected int"):
            parse(bad)
    decay = bounded(float, 0, 1, open_high=True)
    assert decay("0") == 0 and decay("0.999") == 0.999
    for bad in ("1", "2", "-0.1"):
        with pytest.raises(Exception, match=r"must be in \[0, 1\)"):
            decay(bad)


def test_interrupt_is_one_line_and_exit_130(capsys):
    class Stop:
        @staticmethod
        def add_parser(sub):
            sub.add_parser("work").set_defaults(run=Stop.run)

        @staticmethod
        def run(args):
            raise KeyboardInterrupt

    assert make_main("demo-tool", "A demo.", "1", (Stop,))(["work"]) == 130
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_nan_weights_are_refused_on_load(tmp_path):
    from safetensors.torch import save_file

    Tiny().save_pretrained(tmp_path)
    state = {k: v.clone() for k, v in Tiny().state_dict().items()}
    state["linear.weight"][0, 0] = float("nan")
    save_file(state, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="NaN or infinite weights.*linear.weight"):
        Tiny.from_pretrained(tmp_path)


def test_a_config_with_huge_sizes_fails_before_allocating(tmp_path):
    Tiny().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["width"] = 200_000  # a 200,000² weight: 160 GB if it were allocated
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"linear.weight would be \[200000, 200000\]"):
        Tiny.from_pretrained(tmp_path)


def test_csv_keeps_file_names_that_are_not_utf8(tmp_path):
    name = b"scan_\xe9t\xe9.png".decode("utf-8", "surrogateescape")  # a Latin-1 name on disk
    write_csv(tmp_path / "r.csv", ["file"], [[name]])
    assert b"scan_\xe9t\xe9.png" in (tmp_path / "r.csv").read_bytes()
    write_json(tmp_path / "r.json", {"file": name})
    assert json.loads((tmp_path / "r.json").read_text())["file"] == name


def test_stale_temporaries_are_swept_and_only_they(tmp_path):
    from app_toolkit.files import atomic_write, sweep_temporaries

    atomic_write(tmp_path / "keep.png", lambda p: open(p, "wb").write(b"x"))
    stale = [
        tmp_path / ".a.png.ab12_xyz.incomplete",
        tmp_path / "sub" / ".clip.mp4.q1w2e3r4.incomplete.mp4",
    ]
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half")
    users = [".hidden.tmp", ".notes.20240101.tmp", ".backup.document.tmp.txt"]  # not ours
    for name in users:
        (tmp_path / name).write_bytes(b"a user's file")
    assert sorted(sweep_temporaries(tmp_path)) == sorted(stale)
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted([*users, "keep.png"])


def test_a_manifest_sweeps_only_a_folder_of_its_own(tmp_path):
    from app_toolkit.manifest import RunManifest

    stale = tmp_path / ".a.png.ab12_xyz.incomplete.png"
    stale.write_bytes(b"half")
    with pytest.raises(ValueError, match="other settings"):
        RunManifest(tmp_path, {"a": 1})  # not our folder (no manifest): nothing removed
    assert stale.exists()
    RunManifest(tmp_path, {"a": 1}, overwrite=True).save()
    RunManifest(tmp_path, {"a": 1})
    assert not stale.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"settings": {"a": 1}, "outputs": {"x.png": "abc"}}', "is not a SHA-256 digest"),
        ('"just a string"', "expected a JSON object"),
        ('{"outputs": {}}', '"settings" is missing'),
        ("\xff\xfe", "not readable JSON"),
    ],
)
def test_a_damaged_manifest_says_what_is_wrong(tmp_path, content, message):
    from app_toolkit.manifest import MANIFEST_NAME, RunManifest

    (tmp_path / MANIFEST_NAME).write_text(content, errors="surrogateescape")
    with pytest.raises(ValueError, match=f"{MANIFEST_NAME} is damaged: .*{message}.*--overwrite"):
        RunManifest(tmp_path, {"a": 1})
    assert RunManifest(tmp_path, {"a": 1}, overwrite=True).outputs == {}


def test_third_party_state_lives_in_one_cache_folder(tmp_path, monkeypatch):
    from app_toolkit import thirdparty

    monkeypatch.delenv(thirdparty.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert thirdparty.cache_dir() == tmp_path / "xdg" / "app-toolkit"
    monkeypatch.setenv(thirdparty.CACHE_ENV, str(tmp_path / "mine"))
    assert thirdparty.cache_dir() == tmp_path / "mine" and (tmp_path / "mine").is_dir()


def test_other_libraries_warnings_and_info_lines_only_with_verbose(capsys):
    import logging
    import warnings
    from types import SimpleNamespace

    def add_parser(sub):
        parser = sub.add_parser("talk", parents=[COMMON])
        parser.set_defaults(run=talk)

    def talk(args):
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
        logging.getLogger("somelib").info("somelib info line")
        logging.getLogger("app_toolkit").info("our line")
        return 0

    module = SimpleNamespace(__name__="app_toolkit.fake_cli", add_parser=add_parser)
    main = make_main("tool", "Test tool.", "1.0", (module,))
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    root.addHandler(handler)  # pytest's own handlers keep basicConfig from adding one
    try:
        with warnings.catch_warnings(record=True) as shown:
            assert main(["talk"]) == 0
            quiet, quiet_warnings = capsys.readouterr().err, len(shown)
            assert main(["talk", "--verbose"]) == 0
            verbose = capsys.readouterr().err
    finally:
        root.removeHandler(handler)
    assert "our line" in quiet and "somelib" not in quiet and quiet_warnings == 0
    assert "somelib info line" in verbose and "a library's warning" in str(shown[-1].message)
