"""The compatible endpoints: the first API's paths, parameters and response shapes, kept exactly
(docs/api/README.md says where they come from)."""
