"""The NPS services, split along what each one uses.

    campaigns.CampaignService  list, pause, resume, run; open rounds on their schedule
    fanout.FanOutService       a round's audience, reminders, snoozes; posting what is due
                               through the outbox (`surveys.delivery`), admin notices
    answers.AnswerService      who may answer, one answer per person and round, thank-you
    results.ResultsService     scores, team breakdowns, the trend chart, the CSV export
    trend.NpsTrend             NPS per round over a period, for /platform stats

`types` holds what they take and return; `ledger` is the outbox's adapter for
`nps_delivery`; `export` writes the CSV. None of them imports Slack or HTTP libraries.
"""
