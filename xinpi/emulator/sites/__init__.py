"""One module per real source; each registers its routes with ``xinpi.emulator.server.route``."""
