from retail_kernel.errors import UnprocessableContent


class AlertChannelsInvalid(UnprocessableContent):
    """The webhook's ``channels`` names something that is not an operators' channel."""
