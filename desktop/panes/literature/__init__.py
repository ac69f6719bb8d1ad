"""The Literature pane: read PDFs, see extracted records highlighted, search a library."""
