//! One virtual field: a request-only input or a hook-filled output, never stored.

use marked_yaml::Spanned;

use super::{Cx, flag};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::{FieldType, Virtual};
use crate::schema::VirtualDef;
use crate::span::Pos;

impl Cx<'_> {
    /// Resolves a virtual field; a missing or unknown type reads as `string` after reporting.
    pub(super) fn virtual_field(&mut self, name: &Spanned<String>, def: &VirtualDef) -> Virtual {
        let ty = match &def.ty {
            Some(ty) => self.field_type(ty, None).unwrap_or(FieldType::String),
            None => {
                self.missing_type(name);
                FieldType::String
            }
        };
        let input = flag(&def.input);
        let output = flag(&def.output);
        if input == output {
            self.error(
                Diagnostic::error(
                    Code::BadVirtual,
                    Pos::of(name),
                    format!("virtual field `{}` must be either `input: true` or `output: true`", name.as_str()),
                )
                .label(if input { "both" } else { "neither" })
                .help("inputs are accepted in request bodies; outputs are filled by hooks and returned"),
            );
        }
        self.string_only(
            &ty,
            Code::BadLength,
            &[
                ("max_length", def.max_length.as_ref().map(Pos::of)),
                ("min_length", def.min_length.as_ref().map(Pos::of)),
            ],
        );
        if flag(&def.required) && !input {
            self.error(
                Diagnostic::error(Code::BadVirtual, Pos::of(name), "`required` only applies to input virtual fields")
                    .label("an output field"),
            );
        }
        Virtual {
            name: name.to_string(),
            ty,
            input,
            output,
            required: flag(&def.required),
            min_length: def.min_length.as_ref().map(|v| **v),
            max_length: def.max_length.as_ref().map(|v| **v),
            doc: def.doc.clone().unwrap_or_default(),
        }
    }
}
