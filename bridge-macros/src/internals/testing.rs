//! What unit tests read from generated code: parsed back with `syn`, not compared as text.

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

/// The names and strings a piece of generated code holds, macro arguments included.
#[derive(Default, Debug)]
pub(crate) struct Seen {
    /// Each segment of every path (types, functions, traits) and every method called, in
    /// order.
    pub(crate) paths: Vec<String>,
    /// Every string literal.
    pub(crate) strings: Vec<String>,
    /// The name of every macro called.
    pub(crate) macros: Vec<String>,
    /// The name of every attribute.
    pub(crate) attributes: Vec<String>,
}

impl Seen {
    pub(crate) fn of_file(file: &syn::File) -> Seen {
        let mut seen = Seen::default();
        seen.visit_file(file);
        seen
    }

    pub(crate) fn of_item(item: &syn::Item) -> Seen {
        let mut seen = Seen::default();
        seen.visit_item(item);
        seen
    }

    pub(crate) fn of_impl_fn(method: &syn::ImplItemFn) -> Seen {
        let mut seen = Seen::default();
        seen.visit_impl_item_fn(method);
        seen
    }

    pub(crate) fn has_path(&self, name: &str) -> bool {
        self.paths.iter().any(|path| path == name)
    }

    pub(crate) fn has_string(&self, text: &str) -> bool {
        self.strings.iter().any(|string| string == text)
    }
}

impl<'ast> Visit<'ast> for Seen {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        for segment in &path.segments {
            self.paths.push(segment.ident.to_string());
        }
        visit::visit_path(self, path);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.paths.push(call.method.to_string());
        visit::visit_expr_method_call(self, call);
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.strings.push(lit.value());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let Some(last) = attr.path().segments.last() {
            self.attributes.push(last.ident.to_string());
        }
        visit::visit_attribute(self, attr);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Some(last) = mac.path.segments.last() {
            self.macros.push(last.ident.to_string());
        }
        // `vec![..]` and the like hold expressions: read them too.
        if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

/// The item of `file` that `pick` finds, which the test needs.
pub(crate) fn find<'f, T>(file: &'f syn::File, pick: impl Fn(&'f syn::Item) -> Option<T>) -> T {
    file.items
        .iter()
        .find_map(pick)
        .expect("the generated code has the item")
}
