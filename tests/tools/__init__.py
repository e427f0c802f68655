"""Helpers the tests share that are not tests themselves."""
