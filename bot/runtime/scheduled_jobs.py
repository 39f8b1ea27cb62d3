"""`/platform jobs`: the scheduler's jobs and when each runs next (admins)."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.core.mrkdwn import escape
from bot.core.router import CommandContext, Subcommand
from bot.core.scheduler import ScheduledJobInfo, Scheduler


def build_jobs(jobs: list[ScheduledJobInfo]) -> list[dict[str, object]]:
    if not jobs:
        text = "No scheduled jobs are stored yet (the leader writes them when it starts)."
        return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
    # Ids and descriptions come from the job store and the config: shown as text, never markup.
    lines = [
        f"• `{escape(job.id)}` — {escape(job.description)}; next "
        + (f"{job.next_run_time:%Y-%m-%d %H:%M} UTC" if job.next_run_time else "paused")
        for job in jobs
    ]
    blocks = [SectionBlock(text=MarkdownTextObject(text="*Scheduled jobs*"))]
    # A section holds at most 3000 characters.
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return [block.to_dict() for block in blocks]


def subcommand(scheduler: Scheduler) -> Subcommand:
    def handle_jobs(ctx: CommandContext) -> None:
        ctx.ack("Scheduled jobs", blocks=build_jobs(scheduler.jobs()))

    return Subcommand(
        name="jobs",
        summary="Scheduled jobs and when each runs next (admins).",
        usage="/platform jobs",
        example="/platform jobs",
        action="admin.jobs",
        handler=handle_jobs,
    )
