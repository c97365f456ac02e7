"""Files a command writes for the operator (exports, id lists): readable by the owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO


def open_private(path: Path) -> IO[bytes]:
    """Open `path` for writing, created 0600 (an existing regular file is truncated and
    made 0600 too); a device or pipe such as /dev/stdout is written as it is."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
