"""The environments' durable jobs: create (and clone), destroy, re-issue credentials."""
