"""The Micrographs pane: open, click, segment, fix, measure, export."""
