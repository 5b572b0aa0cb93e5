mod blocking;
mod declaration_and_docs;
mod fake_caller;
mod issue_example;
mod manifest_agrees;
mod no_imports;
mod param_attributes;
mod result_shapes;
