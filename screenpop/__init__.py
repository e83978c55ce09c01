"""Agent and supervisor consoles: the FastAPI app, REST API and WebSocket pops."""
