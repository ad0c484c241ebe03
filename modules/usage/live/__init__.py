"""The live stream: events and sessions pushed to subscribers of every process through LISTEN/NOTIFY."""
