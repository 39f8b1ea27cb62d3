"""`python -m bot` is the same as the `platform-bot` console script."""

from bot.runtime.cli import main

raise SystemExit(main())
