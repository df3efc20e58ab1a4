"""Simulated learners and the placement / policy benchmark (plain Python, no Django)."""
