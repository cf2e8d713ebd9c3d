"""`python -m redis_openai_agents.embedded`: see `cli`."""

import sys

from .cli import main

sys.exit(main())
