"""``python -m switchboard_cli``: the same as the ``switchboard`` command."""

import sys

from switchboard_cli.cli import main

sys.exit(main())
