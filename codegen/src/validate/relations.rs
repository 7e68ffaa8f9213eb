//! `relations: { NAME: { has_many: ENTITY, via: FIELD } }`, checked once every entity is resolved:
//! the child entity exists and `via` is its foreign key to the parent.

use super::{Cx, did_you_mean};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::Entity;
use crate::schema::{RelationDef, SchemaFile};
use crate::span::Pos;

impl Cx<'_> {
    pub(super) fn check_relations(&mut self, file: &SchemaFile, entities: &[Entity]) {
        for (entity_name, def) in &file.entities {
            for (relation_name, relation) in &def.relations {
                let Some(child) = entities.iter().find(|e| e.name == relation.has_many.as_str()) else {
                    self.error(
                        Diagnostic::error(
                            Code::UnknownEntity,
                            Pos::of(&relation.has_many),
                            format!(
                                "relation `{}` names entity `{}`, which is not declared",
                                relation_name.as_str(),
                                relation.has_many.as_str()
                            ),
                        )
                        .label("no such entity")
                        .maybe_help(did_you_mean(&relation.has_many, entities.iter().map(|e| e.name.as_str()))),
                    );
                    continue;
                };
                self.check_via(entity_name, relation, child);
            }
        }
    }

    /// `via` names a field of the child that references the parent.
    fn check_via(&mut self, parent: &str, relation: &RelationDef, child: &Entity) {
        let via = &relation.via;
        match child.field(via) {
            Some(field) if field.references.as_ref().is_some_and(|r| r.entity == parent) => {}
            Some(_) => self.error(
                Diagnostic::error(
                    Code::BadRelation,
                    Pos::of(via),
                    format!("`{}.{}` does not reference `{parent}`", child.name, via.as_str()),
                )
                .label("not a foreign key to this entity")
                .help(format!(
                    "add `references: {{ entity: {parent} }}` to `{}.{}`",
                    child.name,
                    via.as_str()
                )),
            ),
            None => self.error(
                Diagnostic::error(
                    Code::BadRelation,
                    Pos::of(via),
                    format!("`{}` has no field `{}`", child.name, via.as_str()),
                )
                .label("no such field")
                .maybe_help(did_you_mean(via, child.fields.iter().map(|f| f.name.as_str()))),
            ),
        }
    }
}
