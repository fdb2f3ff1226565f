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
        write_atomic(tmp_path / "r.json", b"{}")
        assert os.umask(mask) == mask  # writing leaves the mask as it was
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
    before = signal.getsignal(signal.SIGINT)  # the default, or "ignore" in a background job
    with pytest.raises(output.Interrupted) as err:
        write_all({old: b"new", tmp_path / "sub" / "r.html": b"<p>"})
    assert (err.value.signum, err.value.written) == (signal.SIGINT, False)
    assert listing(tmp_path) == ["r.json"] and old.read_bytes() == b"old"
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are put back


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


# ----------------------------------------------------------------------------- targets, backups and the undo


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_a_target_that_is_no_file_name_is_refused(tmp_path, name):
    target = Path(name) if name else Path("")
    with pytest.raises(OutputError) as err:
        write_all({target: b"{}"})
    assert str(err.value) == f"{target}: not a file name; give an output prefix such as reports/run with -o."
    assert err.value.file == str(target)


def test_a_target_that_is_a_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "r.json").mkdir()
    with pytest.raises(OutputError) as err:
        write_all({tmp_path / "a.html": b"<p>", tmp_path / "r.json": b"{}"})
    assert str(err.value) == (f"{tmp_path / 'r.json'}: is a folder, not a file; remove it or choose another output "
                              "prefix with -o.")
    assert listing(tmp_path) == ["r.json"]


def test_only_the_nearest_existing_parent_must_be_a_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "file").write_text("x")
    write_all({tmp_path / "a" / "new" / "r.json": b"{}"})  # a file elsewhere further up does not matter
    assert (tmp_path / "a" / "new" / "r.json").read_bytes() == b"{}"
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_all({tmp_path / "a" / "file" / "deeper" / "r.json": b"{}"})  # two levels missing above a file


def test_report_data_must_be_bytes(tmp_path):
    with pytest.raises(TypeError) as err:
        write_all({tmp_path / "r.json": "text"})  # type: ignore[dict-item]
    assert str(err.value) == f"{tmp_path / 'r.json'}: report data must be bytes, not str"
    write_all({tmp_path / "a": bytearray(b"1"), tmp_path / "b": memoryview(b"2")})
    assert (tmp_path / "a").read_bytes() == b"1" and (tmp_path / "b").read_bytes() == b"2"


def test_temporary_and_backup_names_are_hidden_and_random(tmp_path, monkeypatch):
    import re

    (tmp_path / "r.json").write_bytes(b"old")
    names: list[str] = []
    stage, backup = output._stage, output._backup

    def spy_stage(path, data):
        names.append(stage(path, data).name)
        return Path(tmp_path / names[-1])

    def spy_backup(path):
        found = backup(path)
        names.append(found.name if found is not None else "none")
        return found

    monkeypatch.setattr(output, "_stage", spy_stage)
    monkeypatch.setattr(output, "_backup", spy_backup)
    write_all({tmp_path / "r.json": b"new", tmp_path / "r.html": b"<p>"})
    assert re.fullmatch(r"\.r\.json\.[0-9a-f]{8}\.tmp", names[0]) and re.fullmatch(r"\.r\.html\.[0-9a-f]{8}\.tmp",
                                                                                    names[1])
    assert re.fullmatch(r"\.r\.json\.[0-9a-f]{8}\.bak", names[2]) and names[3] == "none"
    assert listing(tmp_path) == ["r.html", "r.json"]


def test_a_failed_rename_brings_the_old_files_back(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_bytes(b"old a")
    (tmp_path / "c.pdf").write_bytes(b"old c")
    real_rename = output._rename

    def rename(src, dst):
        if Path(dst).name == "c.pdf":
            raise PermissionError(13, "Permission denied")
        real_rename(src, dst)

    monkeypatch.setattr(output, "_rename", rename)
    with pytest.raises(OutputError):
        write_all({tmp_path / "a.json": b"new a", tmp_path / "b.html": b"new b", tmp_path / "c.pdf": b"new c"})
    assert listing(tmp_path) == ["a.json", "c.pdf"]
    assert (tmp_path / "a.json").read_bytes() == b"old a" and (tmp_path / "c.pdf").read_bytes() == b"old c"


def test_an_undo_that_fails_for_one_file_still_undoes_the_others(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_bytes(b"old a")
    real_rename, real_unlink = output._rename, os.unlink

    def rename(src, dst):
        if Path(dst).name == "c.pdf":
            raise PermissionError(13, "Permission denied")
        real_rename(src, dst)

    def unlink(path, *args, **kwargs):
        if Path(path).name == "b.html":
            raise PermissionError(13, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(output, "_rename", rename)
    monkeypatch.setattr(output.os, "unlink", unlink)
    with pytest.raises(OutputError):
        write_all({tmp_path / "a.json": b"new a", tmp_path / "b.html": b"new b", tmp_path / "c.pdf": b"new c"})
    monkeypatch.undo()
    assert (tmp_path / "a.json").read_bytes() == b"old a"  # b.html, undone first, failed; a.json came back
    assert "b.html" in listing(tmp_path)


def test_an_existing_file_that_cannot_be_kept_stops_the_write(tmp_path, monkeypatch):
    (tmp_path / "r.json").write_bytes(b"old")

    def no_link(*args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    def no_copy(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "link", no_link)
    monkeypatch.setattr(output.shutil, "copy2", no_copy)
    with pytest.raises(OutputError) as err:
        write_all({tmp_path / "r.json": b"new"})
    monkeypatch.undo()
    assert str(err.value) == (f"{tmp_path / 'r.json'}: cannot keep a copy of the existing file (No space left on "
                              "device); free the space or choose another output prefix with -o.")
    assert listing(tmp_path) == ["r.json"] and (tmp_path / "r.json").read_bytes() == b"old"


def test_a_backup_is_a_copy_where_no_link_can_be_made(tmp_path, monkeypatch):
    (tmp_path / "r.json").write_bytes(b"old")

    def no_link(*args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(output.os, "link", no_link)
    backup = output._backup(tmp_path / "r.json")
    monkeypatch.undo()
    assert backup is not None and backup.read_bytes() == b"old" and os.stat(backup).st_nlink == 1
    assert output._backup(tmp_path / "none.json") is None


def test_a_folder_made_meanwhile_by_someone_else_is_used_and_kept(tmp_path, monkeypatch):
    real_mkdir = Path.mkdir
    raced: list[Path] = []

    def mkdir(self, *args, **kwargs):
        real_mkdir(self, *args, **kwargs)
        if not raced:  # another process made the first folder just before us
            raced.append(self)
            raise FileExistsError(17, "File exists")

    monkeypatch.setattr(Path, "mkdir", mkdir)
    write_all({tmp_path / "one" / "two" / "r.json": b"{}"})
    monkeypatch.undo()
    assert raced == [tmp_path / "one"] and (tmp_path / "one" / "two" / "r.json").read_bytes() == b"{}"
