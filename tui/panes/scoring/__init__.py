"""The Scoring tab: the rules with their points, in-place edits and the what-if preview."""
