//! Virtual IP management (see crate description).
