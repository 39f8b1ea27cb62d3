"""The feature's domain logic, free of Slack and HTTP: requests and listings (`database`),
approvals (`approvals`, `approvers`), drops (`drops`), time-to-live (`lifecycle`), the
one-time reveal (`reveal`), the request form (`form`, `options`, `hours`), credentials at
rest (`credentials`), the snapshots and the `Notifier` port it hands out (`types`) and the
row helpers the services and jobs share (`rows`).
"""
