//! The embedded demo fleet: loopback fake Kubernetes API servers and scenarios.
