from retail_inventory.models import Base
from retail_kernel.migrations import run_env

run_env(Base.metadata)
