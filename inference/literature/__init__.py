"""Literature: PDF text with positions, materials and properties with units, library search."""
