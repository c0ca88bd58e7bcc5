"""The data layer: descriptors, reading and checking files, overlays, a user's inputs, loading."""
