"""The lookup jobs and services load without Slack's or HTTP libraries, packages included.

The import contract in pyproject.toml follows import statements; this also covers what
Python runs on the way, such as a package's `__init__` (the jobs import `views.reports`).
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

CHECK = """
import sys
import commands.lookup.jobs
import commands.lookup.service.lookups
import commands.lookup.views.reports
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"slack_sdk", "slack_bolt", "httpx"})
print(",".join(loaded))
"""


def test_jobs_services_and_dm_texts_load_no_slack_or_http_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
