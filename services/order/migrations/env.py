from retail_kernel.migrations import run_env
from retail_order.models import Base

run_env(Base.metadata)
