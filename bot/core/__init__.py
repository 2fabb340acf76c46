"""Platform-free core: messages, knowledge types, matching, the handler and its ports."""
