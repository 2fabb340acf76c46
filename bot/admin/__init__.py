"""The editors' and organisers' tools: reviewing the questions log (and the web console)."""
