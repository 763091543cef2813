from retail_kernel.migrations import run_env
from retail_notification.models import Base

run_env(Base.metadata)
