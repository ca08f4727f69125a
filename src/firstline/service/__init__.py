"""`firstline serve`: webhook intake, the durable investigation queue and the HTTP API."""
