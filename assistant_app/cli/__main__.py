"""`python -m assistant_app.cli`: the same as the `assistant` command."""

import sys

from assistant_app.cli.main import main

sys.exit(main())
