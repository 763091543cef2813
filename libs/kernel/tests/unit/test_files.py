"""Atomic file writes: a reader sees the old content or the new, never a mix."""

import stat
import threading
from pathlib import Path

from retail_kernel.files import create_once, write_atomically


class TestWriteAtomically:
    def test_replaces_the_content_with_the_mode_asked(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "file.json"
        write_atomically(path, "old")
        write_atomically(path, b"new", mode=0o600)
        assert path.read_text() == "new"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_a_concurrent_reader_sees_whole_contents_only(self, tmp_path: Path) -> None:
        path = tmp_path / "file"
        contents = [bytes([65 + n]) * 200_000 for n in range(3)]
        write_atomically(path, contents[0])
        stop = threading.Event()

        def rewrite() -> None:
            turn = 0
            while not stop.is_set():
                turn += 1
                write_atomically(path, contents[turn % 3])

        writer = threading.Thread(target=rewrite)
        writer.start()
        try:
            seen = {path.read_bytes() for _ in range(2000)}
        finally:
            stop.set()
            writer.join()
        assert seen <= set(contents)


class TestCreateOnce:
    def test_keeps_the_first_content(self, tmp_path: Path) -> None:
        path = tmp_path / "secret"
        assert create_once(path, "first")
        assert not create_once(path, "second")
        assert path.read_text() == "first"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in tmp_path.iterdir()] == ["secret"]
