"""Seed 000's API (the contract): its paths, parameters and response shapes, kept exactly."""
