""" "Was this helpful?": one vote per person per page per day (the latest answer counts).

`Core.feedback` asks for 1-5 ratings of finished actions, not yes/no per page, so the
votes stay in the feature's own table and admins read them with `/platform docs stats`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory, upsert
from commands.docs.ids import PolicyAction
from commands.docs.models import DocsPage, DocsVote

STATS_DAYS = 90
STATS_PAGES = 10


@dataclass(frozen=True)
class PageVotes:
    tree: str
    path: str
    title: str | None
    """None when the page is no longer in the index."""
    url: str
    yes: int
    no: int


class DocsVotes:
    def __init__(
        self, *, sessions: SessionFactory, audit: AuditLog, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._clock = clock

    def record(self, *, user_id: str, tree: str, path: str, helpful: bool) -> str | None:
        """Store the vote; the page's title, or None when the page is not indexed (any more)."""
        now = self._clock()
        with self._sessions.begin() as session:
            title = session.scalar(
                select(DocsPage.title).where(DocsPage.tree == tree, DocsPage.path == path)
            )
            if title is None:
                return None
            values = {
                "tree": tree,
                "path": path,
                "user_id": user_id,
                "day": now.date(),
                "helpful": helpful,
                "voted_at": now,
            }
            session.execute(
                upsert(session, DocsVote, values, conflict=("tree", "path", "user_id", "day"))
            )
            self._audit.record(
                actor=user_id,
                action=PolicyAction.FEEDBACK,
                outcome=Outcome.SUCCEEDED,
                inputs={"helpful": helpful},
                target=f"{tree}:{path}",
                session=session,
            )
        return title

    def least_helpful(self, *, days: int = STATS_DAYS, limit: int = STATS_PAGES) -> list[PageVotes]:
        """Pages with the most "no" votes over `days` (then the fewest "yes")."""
        since = (self._clock() - timedelta(days=days)).date()
        no = func.sum(case((DocsVote.helpful.is_(False), 1), else_=0))
        yes = func.sum(case((DocsVote.helpful.is_(True), 1), else_=0))
        query = (
            select(DocsVote.tree, DocsVote.path, yes.label("yes"), no.label("no"))
            .where(DocsVote.day >= since)
            .group_by(DocsVote.tree, DocsVote.path)
            .order_by(no.desc(), yes.asc(), DocsVote.tree, DocsVote.path)
            .limit(limit)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
            pages = {
                (p.tree, p.path): p
                for p in session.scalars(
                    select(DocsPage).where(DocsPage.path.in_([r.path for r in rows]))
                )
            }
        return [
            PageVotes(
                tree=r.tree,
                path=r.path,
                title=page.title if (page := pages.get((r.tree, r.path))) else None,
                url=page.url if page else "",
                yes=int(r.yes or 0),
                no=int(r.no or 0),
            )
            for r in rows
        ]
