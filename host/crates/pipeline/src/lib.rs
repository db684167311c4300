//! The pipeline room: Stage 1 filter, Stage 2 categorise, Stage 3 edit + validate, and
//! the resumable run ledger.
