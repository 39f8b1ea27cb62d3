"""The office-hours services, split along what each one uses.

    sessions.OfficeHoursService  sessions from the schedule, channel reminders and host
                                 briefs, the question queue, "I'll attend", the overview
    follow_ups.FollowUpService   the follow-up DMs through the outbox (`surveys.delivery`)
                                 and the ratings they ask for

`types` holds what they take and return. None of them imports Slack or HTTP libraries.
"""
