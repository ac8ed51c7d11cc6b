"""TensorFlow's start-up notices, silenced where they are written.

TensorFlow's C++ core prints a few notices to file descriptor 2 before its logging is initialised (so
TF_CPP_MIN_LOG_LEVEL cannot hide them), and on every successful training: the oneDNN banners and an ERROR-level
line about AVX-512 that is not an error. `known_notices_filtered` drops exactly those lines from fd 2 while
TensorFlow works; every other line passes through unchanged and in order, so real errors stay visible.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

KNOWN_NOTICES = re.compile(
    rb"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|oneDNN custom operations are on"
    rb"|oneDNN supports DT_BOOL only on platforms with AVX-512"
    rb"|Unable to register cu(DNN|FFT|BLAS) factory"
    rb"|computation placer already registered"
    rb"|This TensorFlow binary is optimized to use available CPU instructions"
    rb"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
)


@contextmanager
def known_notices_filtered() -> Iterator[None]:
    """Within the block, lines on fd 2 matching KNOWN_NOTICES are dropped; everything else is passed on."""
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not KNOWN_NOTICES.search(line):
                    os.write(original, line)

    thread = threading.Thread(target=pump, name="tf-notice-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last write end closes: the pump sees EOF and drains
        thread.join(timeout=10)
        os.close(original)
