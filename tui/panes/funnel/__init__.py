"""The Funnel tab: stages with their figures, exits, and one contact's timeline."""
