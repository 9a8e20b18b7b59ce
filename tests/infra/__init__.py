"""Real servers and service processes for integration, e2e tests and benchmarks."""
