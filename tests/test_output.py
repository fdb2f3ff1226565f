"""Report files are written all-or-nothing, with ordinary permissions and errors that name the path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from simreport import output
from simreport.output import OutputError, write_all, write_atomic


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_files_are_written_with_their_folders_and_replace_old_ones(tmp_path):
    old = tmp_path / "r.json"
    old.write_bytes(b"old")
    files = {old: b"new", tmp_path / "sub" / "deeper" / "r.html": b"<html>", tmp_path / "r.pdf": b""}
    write_all(files)
    assert {p: p.read_bytes() for p in files} == files
    assert listing(tmp_path) == ["r.json", "r.pdf", "sub"]
    write_atomic(tmp_path / "one.txt", b"1")
    assert (tmp_path / "one.txt").read_bytes() == b"1"
    assert listing(tmp_path) == ["one.txt", "r.json", "r.pdf", "sub"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask(tmp_path, mask):
    previous = os.umask(mask)
    try:
        assert output._umask() == mask
        assert os.umask(mask) == mask  # _umask leaves it as it was
        write_atomic(tmp_path / "r.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o666 & ~mask


def test_a_folder_that_cannot_be_made_is_an_output_error_naming_the_path(tmp_path):
    (tmp_path / "blocker").write_text("a file")
    target = tmp_path / "blocker" / "r.json"
    with pytest.raises(OutputError) as info:
        write_all({tmp_path / "ok.json": b"{}", target: b"{}"})
    message = str(info.value)
    assert message == (f"{target}: cannot write the report here ({tmp_path / 'blocker'} is a file, not a folder); "
                       "choose another output prefix with -o.")
    assert info.value.__context__ is None
    assert listing(tmp_path) == ["blocker"]  # refused before anything was staged


def test_an_error_without_a_description_is_named_by_itself(tmp_path, monkeypatch):
    def write_bytes(handle, data):
        raise OSError("the disk is on fire")

    monkeypatch.setattr(output, "_write_bytes", write_bytes)
    with pytest.raises(OutputError, match=r"r\.json: cannot write the report here \(the disk is on fire\); free the "
                                          r"space or choose another output prefix with -o\.$") as err:
        write_atomic(tmp_path / "r.json", b"{}")
    assert listing(tmp_path) == []
    assert (err.value.file, err.value.reason) == (str(tmp_path / "r.json"),
                                                  "cannot write the report here (the disk is on fire)")


def test_a_failed_rename_leaves_no_file_and_no_temporary(tmp_path, monkeypatch):
    real_rename = output._rename
    done = []

    def rename(src, dst):
        if Path(dst).name == "r.pdf":
            raise PermissionError(13, "Permission denied")
        done.append(dst)
        real_rename(src, dst)

    monkeypatch.setattr(output, "_rename", rename)
    files = {tmp_path / "r.json": b"{}", tmp_path / "r.pdf": b"%PDF"}
    with pytest.raises(OutputError, match=r"r\.pdf: cannot write the report here \(Permission denied\); "):
        write_all(files)
    assert not any(name.endswith((".tmp", ".bak")) for name in listing(tmp_path))
    assert listing(tmp_path) == []  # r.json, renamed first, was taken back: all or nothing
    # the folders made for the outputs go too, and folders that were there stay
    (tmp_path / "kept").mkdir()
    deep = {tmp_path / "kept" / "new" / "deeper" / "r.json": b"{}", tmp_path / "kept" / "r.pdf": b"%PDF"}
    with pytest.raises(OutputError):
        write_all(deep)
    assert listing(tmp_path) == ["kept"] and listing(tmp_path / "kept") == []


def test_temporaries_are_hidden_siblings_and_are_removed_on_failure(tmp_path, monkeypatch):
    seen = []
    real = output._stage

    def spy(path, data):
        temporary = real(path, data)
        seen.append(temporary)
        assert temporary.parent == path.parent
        assert temporary.name.startswith(f".{path.name}.") and temporary.name.endswith(".tmp")
        assert temporary.read_bytes() == data
        return temporary

    monkeypatch.setattr(output, "_stage", spy)
    with pytest.raises(TypeError):
        write_all({tmp_path / "a.json": b"{}", tmp_path / "b.json": None})  # type: ignore[dict-item]
    assert len(seen) == 1 and not seen[0].exists()
    assert listing(tmp_path) == []


def test_an_interrupted_write_removes_its_temporary(tmp_path, monkeypatch):
    class Interrupted(BaseException):
        pass

    def write_bytes(handle, data):
        os.write(handle, b"{")
        raise Interrupted

    monkeypatch.setattr(output, "_write_bytes", write_bytes)
    with pytest.raises(Interrupted):
        write_atomic(tmp_path / "r.json", b"{}")
    assert listing(tmp_path) == []


def test_output_error_is_an_os_error():
    assert issubclass(OutputError, OSError)


# ----------------------------------------------------------------------------- SIGINT and SIGTERM while writing


def test_an_interruption_names_its_signal_and_whether_the_files_were_written():
    import signal

    plain = output.Interrupted(signal.SIGTERM)
    assert (str(plain), plain.signum, plain.written) == ("SIGTERM", signal.SIGTERM, False)
    late = output.Interrupted(signal.SIGINT, written=True)
    assert (str(late), late.signum, late.written) == ("SIGINT", signal.SIGINT, True)
    assert isinstance(plain, KeyboardInterrupt)


def test_a_signal_while_staging_leaves_the_old_files(tmp_path, monkeypatch):
    import signal

    old = tmp_path / "r.json"
    old.write_bytes(b"old")
    stage = output._stage

    def stage_then_signal(path, data):
        staged = stage(path, data)
        os.kill(os.getpid(), signal.SIGINT)  # deferred: recorded, raised at the next safe point
        return staged

    monkeypatch.setattr(output, "_stage", stage_then_signal)
    with pytest.raises(output.Interrupted) as err:
        write_all({old: b"new", tmp_path / "sub" / "r.html": b"<p>"})
    assert (err.value.signum, err.value.written) == (signal.SIGINT, False)
    assert listing(tmp_path) == ["r.json"] and old.read_bytes() == b"old"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are put back


def test_a_signal_after_the_last_safe_point_is_raised_once_the_files_are_in_place(tmp_path, monkeypatch):
    import signal

    unlink = os.unlink
    sent: list[int] = []

    def unlink_then_signal(path, *args, **kwargs):
        if not sent:  # the clean-up after the renames: too late to undo them
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(output.os, "unlink", unlink_then_signal)
    with pytest.raises(output.Interrupted) as err:
        write_all({tmp_path / "r.json": b"new"})
    monkeypatch.undo()
    assert (err.value.signum, err.value.written) == (signal.SIGTERM, True)
    assert listing(tmp_path) == ["r.json"] and (tmp_path / "r.json").read_bytes() == b"new"


def test_sigterm_raises_like_ctrl_c_while_active():
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(output.Interrupted) as err, output.terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs between bytecodes
            pass
    assert err.value.signum == signal.SIGTERM and err.value.written is False
    assert signal.getsignal(signal.SIGTERM) is before


def test_short_writes_are_continued_until_every_byte_is_written(tmp_path, monkeypatch):
    real_write = os.write
    calls: list[int] = []

    def three_bytes_at_a_time(handle, data):
        calls.append(len(data))
        return real_write(handle, bytes(data[:3]))

    monkeypatch.setattr(output.os, "write", three_bytes_at_a_time)
    write_atomic(tmp_path / "r.json", b'{"a": 12345}')
    monkeypatch.undo()
    assert (tmp_path / "r.json").read_bytes() == b'{"a": 12345}' and calls[:2] == [12, 9] and len(calls) == 4
