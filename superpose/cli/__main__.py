"""``python -m superpose.cli``: the same command line as the ``superpose`` script."""

import sys

from superpose.cli import main

sys.exit(main())
