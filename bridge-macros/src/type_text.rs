//! Rust types as readable text, for docs and messages (`&[i64]`, not `& [i64]`).

use quote::ToTokens;

/// `ty` as a Rust programmer would write it.
pub(crate) fn type_text(ty: &impl ToTokens) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glued_before = matches!(prev, Some('&' | '<' | '(' | '[' | ':' | '\''));
            let glued_after = matches!(next, Some('<' | '>' | ')' | ']' | ',' | ':' | ';'));
            if glued_before || glued_after {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use syn::{parse_quote, Type};

    use super::type_text;

    #[test]
    fn removes_token_spacing() {
        let cases: [(Type, &str); 6] = [
            (parse_quote!(&[i64]), "&[i64]"),
            (parse_quote!(Option<&str>), "Option<&str>"),
            (
                parse_quote!(std::collections::HashMap<String, Vec<u8>>),
                "std::collections::HashMap<String, Vec<u8>>",
            ),
            (parse_quote!(&'a str), "&'a str"),
            (parse_quote!((u32, bool)), "(u32, bool)"),
            (parse_quote!([u8; 4]), "[u8; 4]"),
        ];
        for (ty, expected) in cases {
            assert_eq!(type_text(&ty), expected);
        }
    }
}
