"""Realistic synthetic contacts for the demo database, tests and benchmarks.

``generate.generate_contacts`` is the entry point; the tables it draws from are the
JSON files in this package (package data), read by ``locales`` and ``tables``.
"""
