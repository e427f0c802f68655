"""Shipped rules presets (installed as the package funnel_config)."""
