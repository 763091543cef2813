from retail_audit.models import Base
from retail_kernel.migrations import run_env

run_env(Base.metadata)
