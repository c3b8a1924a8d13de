import logging

import pytest
import torch

from nlp_wire.device import resolve_device

HAS_CUDA = torch.cuda.is_available()


def test_cpu(caplog):
    with caplog.at_level(logging.INFO, logger="nlp_wire.device"):
        assert resolve_device("cpu") == torch.device("cpu")
        assert resolve_device(" CPU ") == torch.device("cpu")
    assert caplog.text == ""  # asked for and given: nothing to tell at INFO, once per model loaded


def test_auto_logs_choice(caplog):
    with caplog.at_level(logging.INFO, logger="nlp_wire.device"):
        device = resolve_device("auto")
    assert "auto" in caplog.text and str(device.type) in caplog.text
    if not HAS_CUDA and not torch.backends.mps.is_available():
        assert device == torch.device("cpu")


@pytest.mark.parametrize("spec", ["", "gpu", "cuda:", "cuda:x", "cpu:0", "mps:1", "cuda:-1", "tpu", None])
def test_malformed(spec):
    with pytest.raises(ValueError, match="not one of auto, cpu, cuda, cuda:N, mps"):
        resolve_device(spec)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0"])
def test_missing_cuda(spec):
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(spec)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_missing_mps():
    with pytest.raises(ValueError, match="MPS"):
        resolve_device("mps")


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_cuda():
    assert resolve_device("cuda").type == "cuda"
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("auto").type == "cuda"


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_cuda_index_out_of_range():
    with pytest.raises(ValueError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_train_says_a_missing_gpu_before_reading_any_data(tmp_path, capsys, monkeypatch):
    import torch

    from nlp_wire.cli.main import main
    from nlp_wire.resources import config_path

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("LOCAL_RANK", "WORLD_SIZE", "ACCELERATE_MIXED_PRECISION"):
        monkeypatch.delenv(name, raising=False)
    config = config_path("debug_cpu.yaml")
    assert main(["train", "minilm", "--config", str(config), "--set", "device=cuda", "--data", "nowhere",
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"{config}: device 'cuda' was asked for but CUDA is not available" in err and "(given with --set)" in err
    assert "nowhere" not in err and not (tmp_path / "r").exists()
