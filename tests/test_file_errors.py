"""Local file problems are file errors: exit 2, naming the file; only socket-level errors are network errors."""

from __future__ import annotations

import errno


def test_config_path_under_a_file(loomctl, monkeypatch, tmp_path):
    (tmp_path / "afile").write_text("not a folder\n")
    target = tmp_path / "afile" / "config.toml"
    monkeypatch.setenv("LOOMCTL_CONFIG", str(target))
    run = loomctl("config", "set", "relay_app", "x")
    assert (run.exit_code, run.stderr) == (2, (
        f"error: cannot write {target}: a part of the path is a file, not a folder\n"
        "hint: give a path whose folders are folders, or set LOOMCTL_CONFIG to another file\n"))


def test_export_spec_into_a_missing_folder(azure, loomctl, tmp_path):
    target = tmp_path / "missing" / "spec.toml"
    run = loomctl("deploy", "infra", "--export", "--spec", str(target))
    assert (run.exit_code, run.stderr) == (2, (
        f"error: cannot write {target}: its folder does not exist\n"
        "hint: create the folder first (`mkdir -p FOLDER`), or give another path\n"))
    assert list(tmp_path.iterdir()) == []


def test_export_spec_onto_a_folder_names_the_folder_not_a_temporary_file(azure, loomctl, tmp_path):
    run = loomctl("deploy", "infra", "--export", "--spec", str(tmp_path))
    assert (run.exit_code, run.stderr) == (2, f"error: cannot write {tmp_path}: it is a folder\n"
                                              "hint: give the path of a file\n")
    assert list(tmp_path.iterdir()) == []


def test_only_socket_errors_are_network_errors():
    from loomctl.core.errors import ExitCode, FileError, NetworkError, as_loom_error

    missing = as_loom_error(FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/x.toml"))
    assert (type(missing), missing.message, missing.exit_code) == (
        FileError, "cannot use /data/x.toml: no such file or folder", ExitCode.USAGE)
    refused = as_loom_error(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    assert (type(refused), refused.exit_code) == (NetworkError, ExitCode.AZURE)
    assert refused.message == "cannot connect to the Azure endpoint: [Errno 111] Connection refused"
    unreachable = as_loom_error(OSError(errno.ENETUNREACH, "Network is unreachable"))
    assert type(unreachable) is NetworkError
    local = as_loom_error(OSError(errno.EMFILE, "Too many open files"))  # a local limit, not the network
    assert not isinstance(local, NetworkError)
