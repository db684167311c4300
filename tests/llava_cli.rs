//! End-to-end CLI tests (see the module docs once written).
