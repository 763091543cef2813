from retail_e2e import *  # noqa: F403
