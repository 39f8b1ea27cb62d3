"""The real step executors: HTTP requests with httpx and programs run without a shell.

Both read at most `MAX_READ_BYTES` of what comes back (the job shows a few thousand
characters; a chatty endpoint or program cannot fill the bot's memory), never raise for
what the far side does (a refused connection, a timeout, an exit status are results), and
never put a header's value in a result: headers carry the secrets.
"""

from __future__ import annotations

import subprocess
import tempfile
from typing import IO

import httpx

from commands.runbooks.render import Rendered
from commands.runbooks.service.ports import StepResult

MAX_READ_BYTES = 64_000
_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
"""A command's whole environment: the bot's own (tokens, DATABASE_URL) is not passed on."""


class Executors:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def http(self, step: Rendered, *, timeout: float) -> StepResult:
        try:
            with self._client.stream(
                step.method,
                step.url,
                headers=step.headers,
                json=step.body,
                timeout=httpx.Timeout(timeout),
            ) as response:
                body = _read(response)
        except httpx.TimeoutException:
            return StepResult(False, f"no answer within {timeout:g} s")
        except httpx.HTTPError as error:
            return StepResult(False, f"the request failed ({type(error).__name__})")
        ok = response.status_code in step.expect
        expected = "/".join(str(status) for status in step.expect)
        summary = f"HTTP {response.status_code}" + ("" if ok else f", expected {expected}")
        return StepResult(ok, summary, body)

    def command(self, step: Rendered, *, timeout: float) -> StepResult:
        # Output goes to a file so a program that prints without end cannot block on a pipe;
        # only its first MAX_READ_BYTES are read back.
        with tempfile.TemporaryFile() as output:
            try:
                finished = subprocess.run(
                    list(step.argv),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    env=_ENVIRONMENT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return StepResult(False, f"timed out after {timeout:g} s", _head(output))
            except OSError as error:
                return StepResult(False, f"could not start the program ({error.strerror})")
            text = _head(output)
        status = finished.returncode
        return StepResult(status == 0, f"exit status {status}", text)


def _read(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_READ_BYTES:
            break
    return b"".join(chunks)[:MAX_READ_BYTES].decode("utf-8", errors="replace")


def _head(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read(MAX_READ_BYTES).decode("utf-8", errors="replace")
