"""What tests need of the console: fixtures in front of the real User service (``fixtures``)
and the browser that drives it (``browser``). Left out of the image."""
