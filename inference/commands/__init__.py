"""One module per `matlens` subcommand."""
