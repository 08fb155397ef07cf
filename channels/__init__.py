"""One adapter per platform behind one interface; this package imports nothing above it."""
