"""The runtime: configuration, wiring, servers and the console script.

httpx imports its command-line tool at import time whenever click, rich and pygments are
installed (a dev tool brings them); the bot never runs it, and it costs every process about
7 MB. A None entry in `sys.modules` makes that import fail the way httpx expects when the
tool's extras are missing, so httpx keeps its stub instead.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
