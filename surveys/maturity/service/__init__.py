"""The maturity services, split along what each one uses.

    rounds.RoundService      open rounds on the schedule or by hand, one open at a time
    fanout.FanOutService     which leads a round asks, reminders, posting through the
                             outbox (`surveys.delivery`), admin notices, the close notice
    answers.AnswerService    who may answer for which team, one answer each, the thank-you
    results.ResultsService   a team's levels and trend, the platform spread and its chart

`scoring` turns answers into levels (pure); `types` holds what they take and return;
`ledger` is the outbox's adapter for `maturity_delivery`. None imports Slack or HTTP libraries.
"""
