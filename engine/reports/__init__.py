"""Figures over a whole workspace: the stage lifecycle (counts, conversion, time in
stage, rotting, movement) and one contact's timeline. Reads through the workspace."""
