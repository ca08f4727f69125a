"""Real services for integration tests: started on loopback ports, stopped by PID."""
