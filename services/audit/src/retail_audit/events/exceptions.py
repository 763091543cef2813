from retail_kernel.errors import Forbidden


class OtherTenant(Forbidden):
    pass
