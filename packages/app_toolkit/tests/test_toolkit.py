import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from app_toolkit.checkpoint import CheckpointError, PretrainedMixin, register_to_config
from app_toolkit.cli import make_main
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
