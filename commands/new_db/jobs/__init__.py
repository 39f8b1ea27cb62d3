"""The feature's durable jobs: `provision` (`db.provision`), `drop` (`db.drop`) and `handoff`
(`db.handoff`), on the collaborators and error translation of `base`; `progress` paces the
edits of the provisioning progress message.

Jobs reach people only through the `Notifier` protocol (service/types.py), never Slack.
"""
