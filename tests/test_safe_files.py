"""Safe writes (core/files.py): through symlinks, never over a device, FIFO or folder, unique temporary files, the
mode kept, and a lock around the config file's read-modify-write so that parallel `config set` calls all count."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from loomctl.core.errors import FileError
from loomctl.core.files import write_text_atomic

ROOT = Path(__file__).resolve().parent.parent


def test_config_set_writes_through_a_symlink_which_stays_a_symlink(loomctl, tmp_path, monkeypatch):
    real = tmp_path / "dotfiles" / "loomctl.toml"
    real.parent.mkdir()
    real.write_text('current = "p"\n\n[profiles."p"]\nrelay_app = "old"\n')
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    monkeypatch.setenv("LOOMCTL_CONFIG", str(link))
    run = loomctl("config", "set", "relay_app", "new")
    assert run.exit_code == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert 'relay_app = "new"' in real.read_text()
    assert sorted(os.listdir(tmp_path)) == ["config.toml", "dotfiles"]
    assert sorted(os.listdir(real.parent)) == ["loomctl.toml", "loomctl.toml.lock"]  # no temporary left


def test_spec_export_writes_through_a_symlink(azure, loomctl, tmp_path):
    real = tmp_path / "specs" / "loom.toml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "loom.toml"
    link.symlink_to(real)
    run = loomctl("deploy", "infra", "--export", "--spec", str(link))
    assert run.exit_code == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == loomctl("deploy", "infra", "--export").stdout  # the spec, in the link's target


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_config_set_refuses_a_target_that_is_not_a_regular_file(loomctl, tmp_path, monkeypatch, kind):
    target = tmp_path / "config.toml"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    monkeypatch.setenv("LOOMCTL_CONFIG", str(target))
    run = loomctl("config", "set", "relay_app", "x")
    assert run.exit_code == 2, run.stderr
    what = "a FIFO, not a regular file" if kind == "fifo" else "a folder"
    assert run.stderr.splitlines()[0] == f"error: cannot write {target}: it is {what}"
    assert run.stderr.splitlines()[1].startswith("hint: give the path of a ")
    assert run.stderr.splitlines()[1].endswith(", or set LOOMCTL_CONFIG to another file")
    assert os.listdir(tmp_path) == ["config.toml"]  # nothing written beside it, no lock file, no temporary
    assert target.is_fifo() if kind == "fifo" else (target.is_dir() and os.listdir(target) == [])


def test_a_symlink_to_a_fifo_is_refused_too(loomctl, tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "config.toml").symlink_to(fifo)
    monkeypatch.setenv("LOOMCTL_CONFIG", str(tmp_path / "config.toml"))
    run = loomctl("config", "init", "--profile", "p")
    assert run.exit_code == 2
    assert "it is a FIFO, not a regular file" in run.stderr
    assert fifo.is_fifo() and (tmp_path / "config.toml").is_symlink()


def test_spec_export_over_a_fifo_or_into_a_missing_folder_is_a_file_error(azure, loomctl, tmp_path):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    run = loomctl("deploy", "infra", "--export", "--spec", str(fifo))
    assert run.exit_code == 2
    assert f"error: cannot write {fifo}: it is a FIFO, not a regular file" in run.stderr
    missing = tmp_path / "nowhere" / "spec.toml"
    run = loomctl("deploy", "infra", "--export", "--spec", str(missing))
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == f"error: cannot write {missing}: its folder does not exist"
    assert sorted(os.listdir(tmp_path)) == ["spec.toml"]


def test_writer_refuses_devices_and_folders(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for name, what in (("fifo", "a FIFO, not a regular file"), ("dir", "a folder")):
        with pytest.raises(FileError, match=f"it is {what}$"):
            write_text_atomic(tmp_path / name, "x")
    assert sorted(os.listdir(tmp_path)) == ["dir", "fifo"] and os.listdir(tmp_path / "dir") == []


def _null_device(folder: Path) -> Path:
    """A character device like /dev/null (major 1, minor 3) in the test's own folder: should the writer ever
    replace a device again, it replaces this one, not the machine's /dev/null. Needs root (CAP_MKNOD)."""
    dev = folder / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("making a device file needs root")
    return dev


def test_config_set_refuses_a_device_like_dev_null(loomctl, tmp_path, monkeypatch):
    dev = _null_device(tmp_path)
    monkeypatch.setenv("LOOMCTL_CONFIG", str(dev))
    run = loomctl("config", "set", "relay_app", "x")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.splitlines()[0] == f"error: cannot write {dev}: it is a character device, not a regular file"
    assert dev.is_char_device() and os.listdir(tmp_path) == ["null"]
    assert loomctl("config", "show", "-o", "json").exit_code == 0  # reading an empty device is fine


def test_config_show_with_a_fifo_is_a_config_error_not_a_hang(loomctl, tmp_path, monkeypatch):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    run = loomctl("config", "show")
    assert run.exit_code == 2
    assert run.stderr == (f"error: cannot read {fifo}: it is a FIFO, not a regular file\n"
                          "hint: point LOOMCTL_CONFIG at a regular file (or at one that does not exist yet)\n")


def test_an_existing_file_keeps_its_mode(loomctl, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('current = "p"\n\n[profiles."p"]\n')
    os.chmod(cfg, 0o640)
    assert loomctl("config", "set", "relay_app", "r").exit_code == 0
    assert oct(os.stat(cfg).st_mode & 0o777) == "0o640"
    out = tmp_path / "plain.txt"
    out.write_text("a")
    os.chmod(out, 0o604)
    write_text_atomic(out, "b", mode=0o600)  # `mode` is for a new file
    assert oct(os.stat(out).st_mode & 0o777) == "0o604" and out.read_text() == "b"


def test_temporary_files_have_unique_names(tmp_path, monkeypatch):
    import tempfile

    made: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def spy(*args, **kwargs):  # wraps the real mkstemp only to see the names it picked
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    for i in range(5):
        write_text_atomic(tmp_path / "out.txt", str(i))
    assert len(set(made)) == 5 and all(Path(n).parent == tmp_path for n in made)
    assert os.listdir(tmp_path) == ["out.txt"] and (tmp_path / "out.txt").read_text() == "4"


def test_twenty_parallel_config_set_processes_keep_all_twenty_changes(tmp_path):
    cfg = tmp_path / "config.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOMCTL_", "AZURE_"))}
    env.update(LOOMCTL_CONFIG=str(cfg), PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "loomctl", "config", "set", "--profile", f"p{i}", "relay_app",
                               f"relay-{i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(20)]  # all started before any is waited for
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0] * 20, [err for _, err in results]
    from loomctl.core import profiles

    back = profiles.load(cfg)
    assert {name: prof["relay_app"] for name, prof in back.profiles.items()} == {f"p{i}": f"relay-{i}"
                                                                                 for i in range(20)}
    assert sorted(os.listdir(tmp_path)) == ["config.toml", "config.toml.lock"]


def test_config_that_is_a_symlink_loop_is_a_file_error_not_an_empty_config(loomctl, tmp_path, monkeypatch):
    # before, `config show` read "no file" (defaults, exit 0) while `config set` failed: the same path, two verdicts
    loop = tmp_path / "config.toml"
    os.symlink(loop, loop)
    for args in (("config", "show"), ("status",)):
        run = loomctl(*args)
        assert (run.exit_code, run.stdout) == (2, ""), run.stdout
        assert run.stderr == (f"error: cannot read {loop}: Too many levels of symbolic links\n"
                              "hint: check the path and its permissions\n")
