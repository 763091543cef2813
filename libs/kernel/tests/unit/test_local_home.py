"""The local platform's home folder (``retail_kernel.local``), read by other processes while
``retail up`` writes it."""

import stat
import threading
from pathlib import Path

from retail_kernel.local import Home, client_secret_file
from retail_kernel.registry import ServiceInfo, installed_services

READS = 3000


def _state(turn: int) -> dict[str, object]:
    services = {f"service-{n}": {"port": 8000 + n, "pid": turn * 100 + n} for n in range(40)}
    return {
        "pid": turn,
        "broker": {"bootstrap": "127.0.0.1:9092", "pid": turn},
        "services": services,
    }


class TestStateFile:
    def test_a_reader_never_sees_a_state_file_being_rewritten(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.prepare()
        home.write_state(_state(0))
        stop = threading.Event()

        def rewrite() -> None:
            turn = 0
            while not stop.is_set():
                turn += 1
                home.write_state(_state(turn))

        writer = threading.Thread(target=rewrite)
        writer.start()
        try:
            seen = [home.read_state() for _ in range(READS)]
        finally:
            stop.set()
            writer.join()
        assert all(state is not None and len(state["services"]) == 40 for state in seen)
        assert len({state["pid"] for state in seen if state}) > 1, "the writer never ran"

    def test_no_state_file_means_not_running(self, tmp_path: Path) -> None:
        assert Home(tmp_path).read_state() is None

    def test_the_writer_leaves_no_temporary_files(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.prepare()
        for turn in range(5):
            home.write_state(_state(turn))
        assert [path.name for path in home.state_file.parent.iterdir()] == ["state.json"]


class TestClientSecrets:
    def _caller(self) -> ServiceInfo:
        return next(info for info in installed_services().values() if info.service_client)

    def test_a_secret_is_private_from_the_start_and_made_once(self, tmp_path: Path) -> None:
        info = self._caller()
        paths = []

        def make() -> None:
            paths.append(client_secret_file(tmp_path, info))

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        path = paths[0]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert len(path.read_text()) >= 32
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]

    def test_a_secret_is_kept_across_calls(self, tmp_path: Path) -> None:
        info = self._caller()
        first = client_secret_file(tmp_path, info).read_text()
        assert client_secret_file(tmp_path, info).read_text() == first
