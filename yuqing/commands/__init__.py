"""The `yuqing` subcommands, grouped by job."""
