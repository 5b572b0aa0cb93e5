//! What unit tests read: the errors a context collected, and generated code parsed back with
//! `syn` (not compared as text).

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

use super::Ctxt;

/// Runs `read` with a new context, and checks it: what `read` returns, and the messages of
/// the errors reported, in order.
pub(crate) fn reported<T>(read: impl FnOnce(&mut Ctxt) -> T) -> (T, Vec<String>) {
    let mut cx = Ctxt::new();
    let value = read(&mut cx);
    (value, messages(cx.check()))
}

/// The messages `check` reports on the model `parse` builds, in order; `parse` must report
/// nothing (the cases of a check have no attribute errors).
pub(crate) fn checked<M>(
    parse: impl FnOnce(&mut Ctxt) -> M,
    check: impl FnOnce(&M, &mut Ctxt),
) -> Vec<String> {
    let ((), errors) = reported(|cx| {
        let model = parse(cx);
        assert!(!cx.has_errors(), "the case has no attribute errors");
        check(&model, cx);
    });
    errors
}

/// The messages of a checked context, in order.
pub(crate) fn messages(result: syn::Result<()>) -> Vec<String> {
    result
        .err()
        .map(|error| error.into_iter().map(|e| e.to_string()).collect())
        .unwrap_or_default()
}

/// The start of each message (up to its first `:` or `;`), to keep expectations short.
pub(crate) fn message_starts(messages: &[String]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m.split([':', ';']).next().unwrap_or_default())
        .collect()
}

/// The messages of the `compile_error!` items in `file`, in order.
pub(crate) fn compile_error_messages(file: &syn::File) -> Vec<String> {
    let compile_errors = file.items.iter().filter_map(|item| match item {
        syn::Item::Macro(m) if m.mac.path.segments.last()?.ident == "compile_error" => {
            Some(m.mac.parse_body::<syn::LitStr>().ok()?.value())
        }
        _ => None,
    });
    compile_errors.collect()
}

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
    fn visiting(visit: impl FnOnce(&mut Seen)) -> Seen {
        let mut seen = Seen::default();
        visit(&mut seen);
        seen
    }

    pub(crate) fn of_file(file: &syn::File) -> Seen {
        Seen::visiting(|seen| seen.visit_file(file))
    }

    pub(crate) fn of_item(item: &syn::Item) -> Seen {
        Seen::visiting(|seen| seen.visit_item(item))
    }

    pub(crate) fn of_impl(imp: &syn::ItemImpl) -> Seen {
        Seen::visiting(|seen| seen.visit_item_impl(imp))
    }

    pub(crate) fn of_impl_fn(method: &syn::ImplItemFn) -> Seen {
        Seen::visiting(|seen| seen.visit_impl_item_fn(method))
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

/// The `impl` of the trait named `name` (by its path's last segment) in `file`.
pub(crate) fn impl_of<'f>(file: &'f syn::File, name: &str) -> &'f syn::ItemImpl {
    find(file, |item| match item {
        syn::Item::Impl(imp) => {
            let (_, path, _) = imp.trait_.as_ref()?;
            (path.segments.last()?.ident == name).then_some(imp)
        }
        _ => None,
    })
}

/// The method `name` of `imp`.
pub(crate) fn impl_fn<'i>(imp: &'i syn::ItemImpl, name: &str) -> &'i syn::ImplItemFn {
    let found = imp.items.iter().find_map(|item| match item {
        syn::ImplItem::Fn(m) if m.sig.ident == name => Some(m),
        _ => None,
    });
    found.expect("the impl has the method")
}
