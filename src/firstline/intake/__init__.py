"""Alert intake: one parser per vendor, all producing domain Alerts."""
