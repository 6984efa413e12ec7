"""``python -m systemkit``."""

import sys

from systemkit.cli import main

sys.exit(main())
