//! Deterministic demo catalogue generator.
