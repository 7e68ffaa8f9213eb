//! Who may call an op: its `auth:` (else the entity's, else `access.default`, else `admin`),
//! written as `admin`, `public`, or a rule of `user`, `service`, `owner` and `access.roles` names,
//! any of which admits a caller.

use marked_yaml::Spanned;

use super::{Cx, backticked, suggest};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::{Auth, Entity, Rule};
use crate::schema::AuthSpec;
use crate::span::Pos;

impl Cx<'_> {
    /// An op's caller class and, for [`Auth::Rule`], the rule.
    pub(super) fn rule(&mut self, spec: Option<&Spanned<AuthSpec>>, entity: &Entity) -> (Auth, Rule) {
        let inherited = self.entity_auth.as_ref().or(self.access_default.as_ref());
        let Some(spec) = spec.or(inherited).cloned() else { return (Auth::Admin, Rule::default()) };
        let pos = Pos::of(&spec);
        let words = &spec.0;
        if words.len() == 1 && words[0] == "admin" {
            return (Auth::Admin, Rule::default());
        }
        if words.len() == 1 && words[0] == "public" {
            return (Auth::Public, Rule::default());
        }
        let mut rule = Rule::default();
        for word in words {
            self.rule_word(word, pos, entity, &mut rule);
        }
        self.rules_used = true;
        self.first_rule.get_or_insert(pos);
        (Auth::Rule, rule)
    }

    /// Adds one word of a rule; `admin` always passes, so it adds nothing.
    fn rule_word(&mut self, word: &str, pos: Pos, entity: &Entity, rule: &mut Rule) {
        match word {
            "admin" => {}
            "public" => self.error(
                Diagnostic::error(Code::BadAuth, pos, "`public` cannot be combined with other callers")
                    .label("public already admits everyone")
                    .help("write `auth: public` alone"),
            ),
            "user" => rule.user = true,
            "service" => rule.service = true,
            "owner" if entity.owner.is_none() => self.error(
                Diagnostic::error(Code::BadAuth, pos, format!("`owner` needs `owner:` on entity `{}`", entity.name))
                    .label("no owner field")
                    .help(format!("add `owner: FIELD` to `{}` (the field holding the user's id)", entity.name)),
            ),
            "owner" => rule.owner = true,
            role if self.access_roles.iter().any(|r| r == role) => rule.roles.push(role.to_owned()),
            other => self.unknown_caller(other, pos),
        }
    }

    fn unknown_caller(&mut self, other: &str, pos: Pos) {
        let known = ["admin", "public", "user", "owner", "service"]
            .into_iter()
            .chain(self.access_roles.iter().map(String::as_str))
            .collect::<Vec<_>>();
        let help = match suggest(other, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? roles are declared under `access: {{ roles: [...] }}`"),
            None => "declare roles under `access: { roles: [...] }`".to_owned(),
        };
        let diagnostic = Diagnostic::error(Code::BadAuth, pos, format!("unknown caller class or role `{other}`"))
            .label(format!("expected {}", backticked(known.iter().copied())))
            .help(help);
        self.error(diagnostic);
    }
}
