"""What a drag or click on the micrograph does: the pane's modes."""

PROMPT = "prompt"  # clicks and Ctrl+drag boxes are SAM prompts
BRUSH = "brush"  # a drag paints the selected object (or a new one)
ERASER = "eraser"  # a drag erases from it
EXAMPLES = "examples"  # phases by example: strokes paint examples of the current class
CALIBRATE = "calibrate"  # a drag draws a line over the scale bar
