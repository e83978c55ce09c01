"""HTTP and WebSocket resources, one module per console area."""
