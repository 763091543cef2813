"""What tests need of the console: the browser that drives it (``browser``)."""
