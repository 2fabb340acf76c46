"""Platform adapters: convert events in, render replies out."""
