"""Shipped rules presets and mapping presets (installed as ``funnel.presets``)."""
