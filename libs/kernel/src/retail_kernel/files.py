"""Files that another process may read while they are written.

``Path.write_text`` truncates, then writes: a reader in between sees an empty or half file.
These helpers write a temporary file in the same folder (same file system, so the rename is
atomic), flush it to disk, then rename it over the target: a reader sees the old file or the
new one, never a mix. The temporary file is created with its final mode, so a secret is never
readable by others, not even for a moment.
"""

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: str | bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``content`` in one step, as seen by any reader."""
    temporary = _written_temporary(path, content, mode)
    try:
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_once(path: Path, content: str | bytes, *, mode: int = 0o600) -> bool:
    """Create ``path`` whole with ``content`` unless it exists; ``False`` when it did.

    Two processes racing to create the same file both succeed in reading one content: the
    second one's link fails and it keeps the first one's file.
    """
    temporary = _written_temporary(path, content, mode)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _written_temporary(path: Path, content: str | bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    # mkstemp opens with O_EXCL and mode 0600; fchmod before any byte is written.
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return temporary
