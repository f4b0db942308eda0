//! Test harness for end-to-end tests (real processes on loopback and in network namespaces).
