"""Bottom layer shared by every package: the error hierarchy and logging set-up."""
