mod aliased_context;
mod crate_option;
mod error_types;
mod json_schema_derive;
mod showcase_shapes;
