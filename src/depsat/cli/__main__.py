"""`python -m depsat.cli`."""

import sys

from depsat.cli import main

sys.exit(main())
