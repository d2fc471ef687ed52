"""One module per `negsim` subcommand: argument parsing and printing only; the work is in the API."""
